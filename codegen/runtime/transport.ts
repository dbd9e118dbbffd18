// The socket under a bus connection, chosen by us instead of dbus-next:
// dbus-next 0.10.2 opens every unix address through the usocket addon, fd
// passing or not, and usocket aborts the process under load (README.md).
// Here a connection that passes fds gets our UnixFdSocket (the only code
// that loads the native addon); every other one a plain net.Socket. The
// rest is dbus-next's own connection logic (its handshake, its marshalling,
// its message parser, looked up when used so the runtime's patches apply),
// wired the way its lib/connection.js does, so MessageBus cannot tell.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import handshakeModule from 'dbus-next/lib/handshake.js';
import marshallCompatModule from 'dbus-next/lib/marshall-compat.js';
import messageModule from 'dbus-next/lib/message.js';
import messageBusClass from 'dbus-next/lib/bus.js';
import { Message, type MessageBus } from './dbus-next.js';
import { loadUnixFdAddon, UnixFdSocket } from './unix-fd-socket.js';

export interface TransportOptions {
  /** A D-Bus address; default: the system bus, or the session bus with `bus: 'session'`. */
  address?: string;
  bus?: 'system' | 'session';
  /** Negotiate unix fd passing (loads the native addon). */
  negotiateUnixFd: boolean;
}

type Handshake = (stream: Duplex, options: object, done: (error: unknown, guid?: string) => void) => void;
const handshake = handshakeModule as Handshake;
const marshallCompat = marshallCompatModule as {
  marshallMessage(msg: Message): [Buffer, number[]];
  messageToJsFmt(raw: unknown): ConstructorParameters<typeof Message>[0];
};
const message = messageModule as {
  unmarshalMessages(stream: Duplex, onMessage: (raw: unknown) => void, options: object): void;
};

const SYSTEM_BUS_DEFAULT = 'unix:path=/var/run/dbus/system_bus_socket';

/** The address to use: the option, else the environment, else the system bus' standard socket. */
export function busAddress(options: Pick<TransportOptions, 'address' | 'bus'>): string {
  if (options.address) return options.address;
  if (options.bus === 'session') {
    const address = process.env.DBUS_SESSION_BUS_ADDRESS;
    if (!address) throw new Error('no session bus: DBUS_SESSION_BUS_ADDRESS is not set');
    return address;
  }
  return process.env.DBUS_SYSTEM_BUS_ADDRESS || SYSTEM_BUS_DEFAULT;
}

export type Endpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * The first entry of a D-Bus address list we can connect to: `unix:path=`,
 * `unix:abstract=` (its path starts with NUL) or `tcp:host=,port=`.
 */
export function parseBusAddress(address: string): Endpoint {
  for (const entry of address.split(';')) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const family = entry.slice(0, colon);
    const params = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      let value = pair.slice(eq + 1);
      try {
        value = decodeURIComponent(value); // the spec's %XX escapes
      } catch {
        continue;
      }
      params.set(pair.slice(0, eq), value);
    }
    if (family === 'unix') {
      const path = params.get('path');
      if (path) return { kind: 'unix', path };
      const abstract = params.get('abstract');
      if (abstract) return { kind: 'unix', path: `\0${abstract}` };
    } else if (family === 'tcp') {
      const port = Number(params.get('port'));
      if (Number.isInteger(port) && port > 0 && port < 65536) return { kind: 'tcp', host: params.get('host') || 'localhost', port };
    }
  }
  throw new Error(`no usable D-Bus address in "${address}" (expected unix:path=, unix:abstract= or tcp:host=,port=)`);
}

function openStream(endpoint: Endpoint, address: string, negotiateUnixFd: boolean): Duplex & { supportsUnixFd?: boolean } {
  if (endpoint.kind === 'tcp') return net.createConnection({ host: endpoint.host, port: endpoint.port });
  if (!negotiateUnixFd) return net.createConnection({ path: endpoint.path });
  let addon;
  try {
    addon = loadUnixFdAddon();
  } catch (e) {
    throw new Error(`cannot pass unix fds on the D-Bus connection to ${address}: ${(e as Error).message}`);
  }
  return new UnixFdSocket(endpoint.path, addon);
}

interface TransportConnection extends EventEmitter {
  stream: Duplex & { supportsUnixFd?: boolean };
  state?: string;
  guid?: string;
  message(msg: Message): void;
  end(): TransportConnection;
  /** Whether the handshake has finished. */
  established: boolean;
}

/**
 * A MessageBus on our own socket. It connects in the background and emits
 * 'connect' once the bus has named it, or 'error'.
 */
export function openBus(options: TransportOptions): MessageBus {
  const address = busAddress(options);
  const stream = openStream(parseBusAddress(address), address, options.negotiateUnixFd);
  const handshakeOptions = { negotiateUnixFd: options.negotiateUnixFd };
  const conn = new EventEmitter() as TransportConnection;
  conn.stream = stream;
  conn.established = false;
  const queued: Message[] = [];
  conn.message = (msg) => void queued.push(msg);
  conn.end = () => {
    stream.end();
    return conn;
  };
  const send = (msg: Message) => {
    const [data, fds] = marshallCompat.marshallMessage(msg);
    if (stream.supportsUnixFd) stream.write({ data, fds });
    else {
      if (fds.length > 0) throw new Error(`cannot send file descriptors: the D-Bus connection to ${address} does not pass them`);
      stream.write(data);
    }
  };
  stream.on('error', (e) => conn.emit('error', e));
  stream.on('end', () => {
    conn.emit('end');
    conn.message = () => void conn.emit('error', new Error('Tried to write a message to a closed stream'));
  });
  stream.once('connect', () => {
    handshake(stream, handshakeOptions, (error, guid) => {
      if (error) {
        conn.emit('error', error instanceof Error ? error : new Error(`D-Bus authentication with ${address} failed: ${String(error)}`));
        return;
      }
      if (stream.destroyed) return;
      conn.guid = guid;
      conn.state = 'connected';
      conn.established = true;
      for (const msg of queued.splice(0)) send(msg);
      conn.message = (msg) => {
        if (!stream.writable) throw new Error('Cannot send message, stream is closed');
        send(msg);
      };
      conn.emit('connect');
      message.unmarshalMessages(
        stream,
        (raw) => {
          let msg: Message;
          try {
            msg = new Message(marshallCompat.messageToJsFmt(raw));
          } catch (e) {
            conn.emit('error', e);
            return;
          }
          conn.emit('message', msg);
        },
        handshakeOptions,
      );
    });
  });
  return new (messageBusClass as new (conn: TransportConnection) => MessageBus)(conn);
}

/**
 * Closes a bus opened by openBus at any stage, and resolves once its socket
 * is closed: before or during the handshake the socket is dropped at once;
 * after it, what is queued is sent first (for at most a second), then our
 * side ends and the socket is closed.
 */
export function closeBus(bus: MessageBus): Promise<void> {
  const conn = (bus as unknown as { _connection: TransportConnection })._connection;
  const stream = conn.stream;
  (bus as unknown as { _signals: EventEmitter })._signals.removeAllListeners();
  if (stream.closed) return Promise.resolve();
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  if (stream.destroyed) return closed;
  if (!conn.established) {
    stream.destroy();
    return closed;
  }
  const drop = () => stream.destroy();
  // A peer that reads nothing must not hold the close up.
  const timer = setTimeout(drop, 1000);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
  stream.once('finish', drop);
  stream.once('error', drop);
  stream.end();
  return closed;
}
