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
import { DBusError, Message, MessageType, type MessageBus } from './dbus-next.js';
import { loadUnixFdAddon, UnixFdSocket } from './unix-fd-socket.js';

export interface TransportOptions {
  /** A D-Bus address; default: the system bus, or the session bus with `bus: 'session'`. */
  address?: string;
  bus?: 'system' | 'session';
  /**
   * Unix fd passing: `true` needs it (opening fails when the native addon
   * does not load), `'if-available'` uses it when the addon loads, `false`
   * never loads the addon.
   */
  negotiateUnixFd: boolean | 'if-available';
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

/** The D-Bus name of the error a call gets when its fds cannot pass. */
export const NOT_SUPPORTED = 'org.freedesktop.DBus.Error.NotSupported';

type BusStream = Duplex & { supportsUnixFd?: boolean };

/** The socket, and why it passes no fds when it cannot. */
function openStream(endpoint: Endpoint, address: string, negotiateUnixFd: TransportOptions['negotiateUnixFd']): { stream: BusStream; noFds?: string } {
  if (endpoint.kind === 'tcp') {
    if (negotiateUnixFd === true) throw new Error(`cannot pass unix fds on the D-Bus connection to ${address}: it is a tcp address`);
    return { stream: net.createConnection({ host: endpoint.host, port: endpoint.port }), noFds: `${address} is a tcp address` };
  }
  if (!negotiateUnixFd) return { stream: net.createConnection({ path: endpoint.path }), noFds: 'the connection was opened with negotiateUnixFd: false' };
  let addon;
  try {
    addon = loadUnixFdAddon();
  } catch (e) {
    if (negotiateUnixFd === true) throw new Error(`cannot pass unix fds on the D-Bus connection to ${address}: ${(e as Error).message}`);
    return { stream: net.createConnection({ path: endpoint.path }), noFds: (e as Error).message };
  }
  return { stream: new UnixFdSocket(endpoint.path, addon) };
}

/** An error reply standing in for a reply whose fds cannot be sent: the caller hears why at once. */
function notSupportedReply(reply: Message, text: string): Message {
  const r = reply as unknown as { serial: number; replySerial: number; destination: string };
  const error = new Message({ type: MessageType.ERROR, replySerial: r.replySerial, destination: r.destination, errorName: NOT_SUPPORTED, signature: 's', body: [text] } as never);
  (error as unknown as { serial: number }).serial = r.serial;
  return error;
}

/**
 * Why unix fds cannot pass on a bus opened by openBus (the addon did not
 * load, negotiateUnixFd was false, the bus refused, a tcp address), or
 * undefined when they can (or the handshake has not said yet).
 */
export function unixFdUnavailable(bus: MessageBus): string | undefined {
  return (bus as unknown as { _connection: TransportConnection })._connection.noFds;
}

interface TransportConnection extends EventEmitter {
  stream: BusStream;
  /** Why fds cannot pass (unixFdUnavailable). */
  noFds?: string;
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
  const { stream, noFds } = openStream(parseBusAddress(address), address, options.negotiateUnixFd);
  const handshakeOptions = { negotiateUnixFd: stream.supportsUnixFd === true };
  const conn = new EventEmitter() as TransportConnection;
  conn.stream = stream;
  if (noFds !== undefined) conn.noFds = noFds;
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
    else if (fds.length === 0) stream.write(data);
    else {
      const why = `cannot send unix fds on the D-Bus connection to ${address}: ${conn.noFds ?? 'fd passing is unavailable'}`;
      // A reply the bus would never see leaves its caller waiting until it times out.
      if (msg.type === MessageType.METHOD_RETURN) {
        process.emitWarning(`D-Bus: the reply to ${msg.destination} (call ${String(msg.replySerial)}) was replaced by ${NOT_SUPPORTED}: ${why}`);
        send(notSupportedReply(msg, why));
        return;
      }
      throw new DBusError(NOT_SUPPORTED, why);
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
      if (!stream.supportsUnixFd && conn.noFds === undefined) conn.noFds = `the bus at ${address} did not agree to pass unix fds`;
      for (const msg of queued.splice(0)) {
        try {
          send(msg);
        } catch (e) {
          process.emitWarning(`D-Bus: a message queued before the connection to ${address} was ready was not sent: ${(e as Error).message}`);
        }
      }
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
