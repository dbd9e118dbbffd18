// D-Bus errors: typed error classes, a registry so clients get the declared
// class back, and the rule that decides what a caller may see.
import { DBusError } from './dbus-next.js';

export { DBusError };

export const StandardError = {
  Failed: 'org.freedesktop.DBus.Error.Failed',
  InvalidArgs: 'org.freedesktop.DBus.Error.InvalidArgs',
  UnknownProperty: 'org.freedesktop.DBus.Error.UnknownProperty',
  UnknownInterface: 'org.freedesktop.DBus.Error.UnknownInterface',
  UnknownObject: 'org.freedesktop.DBus.Error.UnknownObject',
  PropertyReadOnly: 'org.freedesktop.DBus.Error.PropertyReadOnly',
  NoReply: 'org.freedesktop.DBus.Error.NoReply',
  Timeout: 'org.freedesktop.DBus.Error.Timeout',
  Disconnected: 'org.freedesktop.DBus.Error.Disconnected',
  InternalFailure: 'xyz.openbmc_project.Common.Error.InternalFailure',
  InvalidEnumString: 'xyz.openbmc_project.sdbusplus.Error.InvalidEnumString',
} as const;

/**
 * Base of every generated error class: a dbus-next DBusError (so dbus-next
 * sends it as-is) that also knows its D-Bus name statically.
 */
export class TypedDBusError extends DBusError {
  static readonly errorName: string = StandardError.Failed;
  static readonly description: string = '';
  constructor(text?: string) {
    const ctor = new.target as typeof TypedDBusError;
    super(ctor.errorName, text ?? ctor.description);
  }

  /**
   * `e instanceof NotAllowed` holds for any D-Bus error named like NotAllowed,
   * whichever class (this runtime's, or another copy of generated bindings)
   * carried it: the D-Bus name is the error's identity.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this !== TypedDBusError && isDBusError(value) && value.type === this.errorName;
  }
}

export class InvalidEnumStringError extends TypedDBusError {
  static override readonly errorName = StandardError.InvalidEnumString;
  static override readonly description = 'An invalid enum string was decoded.';
}

export class InternalFailureError extends TypedDBusError {
  static override readonly errorName = StandardError.InternalFailure;
  static override readonly description = 'The operation failed internally.';
}

type ErrorClass = typeof TypedDBusError;
const registry = new Map<string, ErrorClass>();

/** Generated error modules register their classes so clients can rethrow them typed. */
export function registerErrors(...classes: ErrorClass[]): void {
  for (const c of classes) registry.set(c.errorName, c);
}
registerErrors(InvalidEnumStringError, InternalFailureError);

/** The typed class for an error received from the bus (a real instance of it), or the plain DBusError. */
export function reviveError(err: DBusError): DBusError {
  const cls = registry.get(err.type);
  // Not `err instanceof cls`: that holds for any error of the same name (Symbol.hasInstance).
  if (!cls || Object.prototype.isPrototypeOf.call(cls.prototype, err)) return err;
  const typed = new cls(err.text);
  (typed as { reply?: unknown }).reply = (err as { reply?: unknown }).reply;
  return typed;
}

export function isDBusError(e: unknown): e is DBusError {
  return e instanceof DBusError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'DBusError');
}

/**
 * What a caller may be told about `e`, thrown while serving one of `declared`
 * errors. Declared errors, the freedesktop standard errors and sdbusplus'
 * InvalidEnumString pass; anything else (a bug, a Node error with a stack and
 * paths in it) becomes InternalFailure, and the original goes to the log only.
 */
export function errorForCaller(e: unknown, declared: readonly string[], log: (msg: string) => void): DBusError {
  if (isDBusError(e)) {
    if (declared.includes(e.type) || e.type.startsWith('org.freedesktop.DBus.Error.') || e.type === StandardError.InvalidEnumString) {
      return e;
    }
    log(`undeclared D-Bus error ${e.type} replaced by InternalFailure: ${e.text}`);
  } else {
    const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log(`internal error replaced by InternalFailure: ${detail}`);
  }
  return new InternalFailureError();
}
