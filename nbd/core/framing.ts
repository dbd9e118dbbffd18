// The byte layouts both phases share: big-endian views, the greeting, option
// replies, simple reply headers and the small helpers around export names.
// Nothing here keeps state.
import * as P from './protocol.js';

/** A big-endian view of `bytes` (network order is all NBD uses). */
export const be = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A big-endian 16-bit integer at `at`: straight from the bytes, no DataView per request. */
export const readU16 = (bytes: Uint8Array, at: number): number => (bytes[at]! << 8) | bytes[at + 1]!;

/** A big-endian 32-bit unsigned integer at `at`. */
export const readU32 = (bytes: Uint8Array, at: number): number =>
  ((bytes[at]! << 24) >>> 0) + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);

/** Stores `value` as a big-endian 32-bit unsigned integer at `at`. */
export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** The server's first 18 bytes: NBDMAGIC, IHAVEOPT and the handshake flags. */
export function greeting(): Uint8Array {
  const bytes = new Uint8Array(18);
  const view = be(bytes);
  view.setBigUint64(0, P.NBDMAGIC);
  view.setBigUint64(8, P.IHAVEOPT);
  view.setUint16(16, P.FLAG_FIXED_NEWSTYLE | P.FLAG_NO_ZEROES);
  return bytes;
}

/** One fixed-newstyle option reply: magic, option, reply type, length, data. */
export function optionReply(option: number, type: number, data: Uint8Array): Uint8Array {
  const reply = new Uint8Array(20 + data.byteLength);
  const view = be(reply);
  view.setBigUint64(0, P.OPTION_REPLY_MAGIC);
  view.setUint32(8, option);
  view.setUint32(12, type);
  view.setUint32(16, data.byteLength);
  reply.set(data, 20);
  return reply;
}

/** Fills the first 16 bytes of `reply` as a simple reply header (a READ's data may follow). */
export function writeSimpleReplyHeader(reply: Uint8Array, error: number, cookie: Uint8Array): Uint8Array {
  writeU32(reply, 0, P.SIMPLE_REPLY_MAGIC);
  writeU32(reply, 4, error);
  reply.set(cookie, 8);
  return reply;
}

/** An NBD_REP_INFO payload: the information type, then its bytes. */
export function withType(type: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + bytes.byteLength);
  be(out).setUint16(0, type);
  out.set(bytes, 2);
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A client-chosen name, shortened and decoded leniently, for log lines only. */
export function decodeName(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 256));
}
