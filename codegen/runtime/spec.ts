// The runtime description of one interface, emitted by the generator next to
// the typed classes: names, signatures, flags and codecs of every member.
import type { Codec } from './codec.js';

export interface ArgSpec {
  readonly name: string;
  readonly codec: Codec<any>;
}

/** How property changes are announced (org.freedesktop.DBus.Property.EmitsChangedSignal). */
export type EmitsChanged = 'true' | 'invalidates' | 'const' | 'false';

export interface PropertySpec {
  readonly name: string;
  readonly codec: Codec<any>;
  /** Settable over D-Bus (no `const`/`readonly` flag). */
  readonly writable: boolean;
  readonly emits: EmitsChanged;
  /** Left out of GetAll and ObjectManager listings; read with Get only. */
  readonly explicit: boolean;
  readonly deprecated: boolean;
  readonly hidden: boolean;
  readonly unprivileged: boolean;
  readonly errors: readonly string[];
  /** Typed initial value (the YAML default, or the type's zero value). */
  readonly initial: () => unknown;
}

export interface MethodSpec {
  readonly name: string;
  readonly inArgs: readonly ArgSpec[];
  readonly outArgs: readonly ArgSpec[];
  readonly errors: readonly string[];
  readonly noReply: boolean;
  readonly deprecated: boolean;
  readonly hidden: boolean;
  readonly unprivileged: boolean;
}

export interface SignalSpec {
  readonly name: string;
  readonly args: readonly ArgSpec[];
  readonly deprecated: boolean;
  readonly hidden: boolean;
}

export interface InterfaceSpec {
  readonly name: string;
  readonly methods: readonly MethodSpec[];
  readonly properties: readonly PropertySpec[];
  readonly signals: readonly SignalSpec[];
}

export function signatureOf(args: readonly ArgSpec[]): string {
  return args.map((a) => a.codec.signature).join('');
}
