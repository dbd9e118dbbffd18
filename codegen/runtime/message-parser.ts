// dbus-next's incoming message parser, replaced. Its own gives each message
// every fd queued on the socket at that moment (fds of the next message
// included) and forgets them once the body is decoded, so they leak. This
// one gives a message exactly the fds its UNIX_FDS header field announces,
// and runs the dispatch under incoming-fds.ts' ownership rule. A message
// that cannot be decoded is dropped (with its fds closed) instead of
// throwing out of the stream's event handler.
import type { Readable } from 'node:stream';
import { closeFds, dispatchWithFds } from './incoming-fds.js';

/** The stream may offer fds (transport.ts' UnixFdSocket does); a plain socket has none. */
interface FdStream extends Readable {
  takeFds?(count: number): number[];
}

interface DBusBufferClass {
  new (buffer: Buffer, start: number, endian: number, fds: number[] | null, options: unknown): DBusBufferInstance;
}
interface DBusBufferInstance {
  fds: number[] | null;
  readArray(tree: unknown, length: number): [number, [unknown, [unknown]]][];
  align(power: number): void;
  read(signature: string): unknown[];
}

export interface ParserDeps {
  DBusBuffer: DBusBufferClass;
  headerFieldTree: unknown;
  headerTypeName: readonly (string | null)[];
  littleEndian: number;
}

const HEADER_BYTES = 16;
const UNIX_FDS_FIELD = 9;

function takeFds(stream: FdStream, count: number): number[] {
  if (count <= 0 || typeof stream.takeFds !== 'function') return [];
  return stream.takeFds(count);
}

export function makeUnmarshalMessages(deps: ParserDeps) {
  return function unmarshalMessages(stream: FdStream, onMessage: (message: Record<string, unknown>) => void, options: unknown): void {
    let header: Buffer | null = null;
    let fieldsLength = 0;
    let bodyLength = 0;
    let restLength = 0;
    stream.on('readable', () => {
      for (;;) {
        if (!header) {
          header = stream.read(HEADER_BYTES) as Buffer | null;
          if (!header) return;
          const le = header[0] === deps.littleEndian;
          fieldsLength = le ? header.readUInt32LE(12) : header.readUInt32BE(12);
          bodyLength = le ? header.readUInt32LE(4) : header.readUInt32BE(4);
          restLength = (((fieldsLength + 7) >> 3) << 3) + bodyLength;
        }
        // A message without fields or body cannot exist (PATH/MEMBER are required),
        // so restLength > 0 and read() returns null until it is all there.
        const rest = stream.read(restLength) as Buffer | { data: Buffer } | null;
        if (!rest) return;
        const data = Buffer.isBuffer(rest) ? rest : rest.data;
        const head: Buffer = header;
        header = null;
        deliver(head, data, fieldsLength, bodyLength);
      }
    });

    function deliver(head: Buffer, data: Buffer, fieldsLength: number, bodyLength: number): void {
      const le = head[0] === deps.littleEndian;
      const endian = head[0]!;
      const buffer = new deps.DBusBuffer(data, 0, endian, null, options);
      const message: Record<string, unknown> = {};
      let fds: number[] = [];
      try {
        const fields = buffer.readArray(deps.headerFieldTree, fieldsLength);
        buffer.align(3);
        message.serial = le ? head.readUInt32LE(8) : head.readUInt32BE(8);
        for (const [code, value] of fields) {
          const name = deps.headerTypeName[code];
          if (name) message[name] = value[1][0];
        }
        message.type = head[1];
        message.flags = head[2];
        const fdCount = fields.find(([code]) => code === UNIX_FDS_FIELD) ? Number(message.unixFd) : 0;
        fds = takeFds(stream, fdCount);
        buffer.fds = fds;
        if (bodyLength > 0 && message.signature) message.body = buffer.read(message.signature as string);
      } catch (e) {
        closeFds(fds);
        process.emitWarning(`D-Bus: dropped a message that could not be decoded (serial ${String(message.serial)}, ${String(message.member ?? message.type)}): ${(e as Error).message}`);
        return;
      }
      dispatchWithFds(fds, () => onMessage(message));
    }
  };
}
