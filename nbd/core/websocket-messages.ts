// How bytes travel as websocket messages to bmcweb's /nbd/<id> relay.
//
// bmcweb reads each incoming websocket message into a buffer capped at
// 131088 bytes (http/websocket_impl.hpp: `inBuffer(inString, 131088)`, i.e.
// 128 KiB + 16, one 128 KiB READ reply with its header). A larger message
// fails the read and closes the connection, so every message we send must
// fit. The relay writes message bodies to the unix socket in order, so how
// the stream is cut does not matter to the NBD client behind it.

/** The largest websocket message bmcweb's /nbd relay accepts. */
export const BMCWEB_MAX_MESSAGE = 128 * 1024 + 16;

/** Cuts `bytes` into views of at most `max` bytes (no copies). */
export function* messagesOf(bytes: Uint8Array, max = BMCWEB_MAX_MESSAGE): Generator<Uint8Array> {
  if (bytes.byteLength <= max) {
    yield bytes;
    return;
  }
  for (let at = 0; at < bytes.byteLength; at += max) yield bytes.subarray(at, Math.min(bytes.byteLength, at + max));
}
