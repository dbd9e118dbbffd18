// Client-side encoding of NBD messages and a parser of what the server
// sends, for raw-protocol and fuzz tests (written from proto.md, checked
// against libnbd's behaviour in conformance.test.ts).
export const GREETING_LENGTH = 18;
export const IHAVEOPT = 0x49484156454f5054n;
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;

export function clientFlags(flags: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, flags >>> 0);
  return b;
}

export function option(code: number, data: Uint8Array = new Uint8Array(0), declaredLength = data.byteLength): Uint8Array {
  const b = new Uint8Array(16 + data.byteLength);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, IHAVEOPT);
  v.setUint32(8, code >>> 0);
  v.setUint32(12, declaredLength >>> 0);
  b.set(data, 16);
  return b;
}

export function goData(name: string, infos: number[] = []): Uint8Array {
  const n = new TextEncoder().encode(name);
  const b = new Uint8Array(4 + n.byteLength + 2 + 2 * infos.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, n.byteLength);
  b.set(n, 4);
  v.setUint16(4 + n.byteLength, infos.length);
  infos.forEach((x, i) => v.setUint16(6 + n.byteLength + 2 * i, x));
  return b;
}

export function request(type: number, cookie: bigint, offset: bigint, length: number, flags = 0, payload?: Uint8Array): Uint8Array {
  const b = new Uint8Array(28 + (payload?.byteLength ?? 0));
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x25609513);
  v.setUint16(4, flags);
  v.setUint16(6, type);
  v.setBigUint64(8, cookie);
  v.setBigUint64(16, offset);
  v.setUint32(24, length >>> 0);
  if (payload) b.set(payload, 28);
  return b;
}

export interface OptionReply {
  option: number;
  type: number;
  data: Uint8Array;
}

/** Splits option replies off the front of `bytes`; returns them and how many bytes they took. */
export function parseOptionReplies(bytes: Uint8Array, max = Infinity): { replies: OptionReply[]; used: number } {
  const replies: OptionReply[] = [];
  let at = 0;
  while (replies.length < max && bytes.byteLength - at >= 20) {
    const v = new DataView(bytes.buffer, bytes.byteOffset + at);
    if (v.getBigUint64(0) !== OPTION_REPLY_MAGIC) throw new Error(`bad option reply magic at ${at}`);
    const length = v.getUint32(16);
    if (bytes.byteLength - at < 20 + length) break;
    replies.push({ option: v.getUint32(8), type: v.getUint32(12), data: bytes.slice(at + 20, at + 20 + length) });
    at += 20 + length;
  }
  return { replies, used: at };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
