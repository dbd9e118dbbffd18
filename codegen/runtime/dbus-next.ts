/// <reference path="./dbus-next-internals.d.ts" />
// The one place that imports dbus-next (a CommonJS package): everything else
// in the runtime takes its classes from here, so the interop lives in one file.
import dbusNext from 'dbus-next';
// Static imports (not a run-time require) so bundlers keep the very module
// instances dbus-next itself uses.
import marshallersModule from 'dbus-next/lib/marshallers.js';
import alignModule from 'dbus-next/lib/align.js';
import messageModule from 'dbus-next/lib/message.js';
import dbusBufferModule from 'dbus-next/lib/dbus-buffer.js';
import constantsModule from 'dbus-next/lib/constants.js';
import signatureModule from 'dbus-next/lib/signature.js';
import { makeUnmarshalMessages, type ParserDeps } from './message-parser.js';
import type * as DBusNextTypes from 'dbus-next';

export const { Variant, DBusError, Message, MessageBus, interface: dbusInterface } = dbusNext;
export type Variant<T = unknown> = DBusNextTypes.Variant<T>;
export type DBusError = DBusNextTypes.DBusError;
export type Message = DBusNextTypes.Message;
export type MessageBus = DBusNextTypes.MessageBus;
export const BaseInterface = dbusNext.interface.Interface;
export type BaseInterface = DBusNextTypes.interface.Interface;
export const { sessionBus, systemBus } = dbusNext;

/** Message type numbers on the wire (dbus-next's MessageType). */
export const MessageType = { METHOD_CALL: 1, METHOD_RETURN: 2, ERROR: 3, SIGNAL: 4 } as const;
/** Flag asking the callee not to reply. */
export const NO_REPLY_EXPECTED = 1;

/**
 * Two dbus-next marshalling defects, fixed where they live:
 * - it refuses NaN and ±Infinity doubles ("Number outside range"), but D-Bus
 *   doubles are IEEE 754 and OpenBMC uses NaN all the time (every
 *   Sensor.Value defaults to it);
 * - its int64 minimum is off by one (-2^63 + 1), so INT64_MIN cannot be sent.
 * Replace the `d` and `x` marshallers; the others are untouched.
 */
function fixMarshallers(): void {
  type Marshaller = { check(d: unknown): unknown; marshall(ps: unknown, d: unknown): void };
  const marshallers = marshallersModule as { MakeSimpleMarshaller: (sig: string) => Marshaller; __fixed?: boolean };
  const { align } = alignModule as { align: (ps: unknown, n: number) => void };
  if (marshallers.__fixed) return;
  type Stream = { put(b: Buffer): void; _offset: number };
  const eightBytes = (check: (d: unknown) => void, write: (b: Buffer, d: never) => void): Marshaller => ({
    check,
    marshall(ps, data) {
      check(data);
      align(ps, 8);
      const buff = Buffer.alloc(8);
      write(buff, data as never);
      (ps as Stream).put(buff);
      (ps as Stream)._offset += 8;
    },
  });
  const double = eightBytes(
    (d) => {
      if (typeof d !== 'number') throw new Error(`Data: ${String(d)} was not of type number`);
    },
    (b, d: number) => b.writeDoubleLE(d, 0),
  );
  const int64 = eightBytes(
    (d) => {
      const v = typeof d === 'bigint' ? d : BigInt(String(d));
      if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new Error(`data was out of range for int64: ${v}`);
    },
    (b, d: bigint | number) => b.writeBigInt64LE(BigInt(d), 0),
  );
  const original = marshallers.MakeSimpleMarshaller;
  marshallers.MakeSimpleMarshaller = (sig: string) => (sig === 'd' ? double : sig === 'x' ? int64 : original(sig));
  marshallers.__fixed = true;
}
fixMarshallers();

/** Replaces dbus-next's incoming message parser (fd ownership, see message-parser.ts). */
function replaceParser(): void {
  const message = messageModule as { unmarshalMessages: unknown; __replaced?: boolean };
  if (message.__replaced) return;
  const constants = constantsModule as { headerTypeName: (string | null)[]; endianness: { le: number } };
  message.unmarshalMessages = makeUnmarshalMessages({
    DBusBuffer: dbusBufferModule as ParserDeps['DBusBuffer'],
    // The header fields are an array of (code, variant) structs.
    headerFieldTree: (signatureModule as { parseSignature(s: string): unknown[] }).parseSignature('(yv)')[0],
    headerTypeName: constants.headerTypeName,
    littleEndian: constants.endianness.le,
  });
  message.__replaced = true;
}
replaceParser();
