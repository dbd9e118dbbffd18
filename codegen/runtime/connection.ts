// A bus connection with what dbus-next leaves out: call timeouts, pending
// calls rejected when the connection drops, signal subscriptions that can be
// removed, and a safe close. The socket under it is ours (transport.ts).
import { DBusError, Message, MessageType, NO_REPLY_EXPECTED, type MessageBus } from './dbus-next.js';
import { reviveError, StandardError } from './errors.js';
import { claimIncomingFds, recordReplyFds } from './incoming-fds.js';
import { closeBus, NOT_SUPPORTED, openBus, unixFdUnavailable } from './transport.js';

export interface ConnectOptions {
  /** A bus address (`unix:path=…`); default: the system bus, or the session bus with `bus: 'session'`. */
  address?: string;
  bus?: 'system' | 'session';
  /**
   * Unix fd passing, on the native addon openbmc-dbus-unix-fd (an optional
   * dependency). By default it is used when the addon loads; when it does not,
   * the connection opens without it and a call whose arguments or reply hold
   * fds fails at once with NotSupported saying why (`unixFdUnavailable`).
   * `true`: opening fails without it. `false`: never (the addon is not loaded).
   */
  negotiateUnixFd?: boolean;
  /** Default method-call timeout in ms (D-Bus' usual 25 s). */
  callTimeoutMs?: number;
}

export interface CallRequest {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
  /**
   * The reply's signature, when known: a call whose reply holds unix fds
   * (`h`) then fails at once on a connection that cannot pass them, instead
   * of waiting for a reply the bus will not deliver.
   */
  replySignature?: string;
  timeoutMs?: number;
  noReply?: boolean;
}

export interface SignalMatch {
  sender?: string;
  path?: string;
  /** Match every path below (and at) this one: ObjectManager-style subscriptions. */
  pathNamespace?: string;
  interface?: string;
  member?: string;
}

export interface Subscription {
  unsubscribe(): Promise<void>;
}

interface Pending {
  readonly serial: number;
  /** Answered, timed out, failed to send or dropped with the connection. */
  settled: boolean;
  reject(e: Error): void;
  /** performance.now() after which the call times out. */
  deadline: number;
  req: CallRequest;
  timeoutMs: number;
}

/** dbus-next's MessageBus internals the call path uses directly. */
interface BusInternals {
  _methodReturnHandlers: Record<number, ((reply: Message) => void) | undefined>;
  _nameOwners: Record<string, string>;
  /** The transport's connection (transport.ts): `message` writes one message. */
  _connection: { message(msg: Message): void };
  newSerial(): number;
}

interface SignalListener {
  match: SignalMatch;
  rule: string;
  handler(msg: Message): void;
}

function matchRule(m: SignalMatch): string {
  const parts = ["type='signal'"];
  if (m.sender) parts.push(`sender='${m.sender}'`);
  if (m.path) parts.push(`path='${m.path}'`);
  if (m.pathNamespace) parts.push(`path_namespace='${m.pathNamespace}'`);
  if (m.interface) parts.push(`interface='${m.interface}'`);
  if (m.member) parts.push(`member='${m.member}'`);
  return parts.join(',');
}

const DBUS = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };

export class Connection {
  /**
   * Calls waiting for their reply, in call order. A settled call stays in
   * the list until it is cleaned up in bulk (#settle): cheaper per call
   * than a Map's set and delete, which showed in bench/calls.ts.
   */
  #pending: Pending[] = [];
  #waiting = 0;
  /** Incoming calls (sender/serial) that must not be answered. */
  readonly #noReply = new Set<string>();
  readonly #listeners = new Set<SignalListener>();
  /** Well-known name → unique name of its owner, for matching signal senders. */
  readonly #owners = new Map<string, string | undefined>();
  #closed = false;
  /**
   * One timer for all pending calls, due at the earliest deadline (a timer
   * per call costs more than the rest of the call's bookkeeping). Unref'd:
   * while the connection is open its socket keeps the process alive.
   */
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweepAt = Infinity;
  readonly #internals: BusInternals;
  readonly callTimeoutMs: number;

  private constructor(
    readonly bus: MessageBus,
    options: ConnectOptions,
  ) {
    this.callTimeoutMs = options.callTimeoutMs ?? 25_000;
    this.#internals = bus as unknown as BusInternals;
    const stream = (bus as unknown as { _connection: { stream: NodeJS.EventEmitter; on(e: string, f: () => void): void } })._connection;
    const lost = () => this.#lost();
    // dbus-next answers calls still queued after a close by writing to the
    // closed stream, which throws out of an event handler and kills the
    // process: once closed, outgoing messages are dropped instead.
    // Calls whose sender asked for no reply (NO_REPLY_EXPECTED) get none:
    // dbus-next would answer them all.
    const send = bus.send.bind(bus);
    bus.send = (msg: Message) => {
      if (this.#closed) return;
      if (this.#noReply.size > 0 && (msg.type === MessageType.METHOD_RETURN || msg.type === MessageType.ERROR) && this.#noReply.delete(`${msg.destination}/${msg.replySerial}`)) return;
      send(msg);
    };
    stream.on('end', lost);
    stream.stream.on('close', lost);
    bus.on('error', () => lost());
    bus.on('message', (msg: Message) => {
      // (A reply's fds are claimed by the reply handler in call(); all others
      // are closed once dispatched, incoming-fds.ts.)
      if (msg.type === MessageType.SIGNAL) this.#onSignal(msg);
      else if (msg.type === MessageType.METHOD_CALL && (msg.flags & NO_REPLY_EXPECTED) !== 0) this.#noReply.add(`${msg.sender}/${msg.serial}`);
    });
  }

  /** Opens a connection and waits until the bus has given it a name. */
  static async open(options: ConnectOptions = {}): Promise<Connection> {
    const bus = openBus({ address: options.address, bus: options.bus, negotiateUnixFd: options.negotiateUnixFd ?? 'if-available' });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => {
        void closeBus(bus);
        reject(new Error(`cannot connect to D-Bus${options.address ? ` at ${options.address}` : ''}: ${e.message}`));
      };
      bus.once('error', onError);
      bus.once('connect', () => {
        bus.off('error', onError);
        resolve();
      });
    });
    return new Connection(bus, options);
  }

  /** The unique name the bus gave this connection. */
  get uniqueName(): string {
    return (this.bus as unknown as { name: string | null }).name ?? '';
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why unix fds cannot pass on this connection (the addon did not load, the bus refused, …); undefined when they can. */
  get unixFdUnavailable(): string | undefined {
    return unixFdUnavailable(this.bus);
  }

  /** Calls a method; rejects with a DBusError (the declared class when known), on timeout, or when the connection drops. */
  call(req: CallRequest): Promise<Message | null> {
    if (this.#closed) return Promise.reject(new DBusError(StandardError.Disconnected, 'the D-Bus connection is closed'));
    const noFds = unixFdUnavailable(this.bus);
    if (noFds !== undefined && (req.signature?.includes('h') || req.replySignature?.includes('h'))) {
      const which = req.signature?.includes('h') ? 'its arguments hold' : 'its reply holds';
      return Promise.reject(new DBusError(NOT_SUPPORTED, `${req.interface}.${req.member} on ${req.destination} ${req.path}: ${which} unix fds, which this connection cannot pass: ${noFds}`));
    }
    const msg = new Message({
      destination: req.destination,
      path: req.path,
      interface: req.interface,
      member: req.member,
      signature: req.signature ?? '',
      body: req.body ?? [],
      flags: req.noReply ? NO_REPLY_EXPECTED : 0,
    } as never);
    if (req.noReply) {
      try {
        this.bus.send(msg);
      } catch (e) {
        return Promise.reject(e);
      }
      return Promise.resolve(null);
    }
    const timeoutMs = req.timeoutMs ?? this.callTimeoutMs;
    // dbus-next's bus.call, without its extra promise: the reply handler is
    // ours, registered under the serial the message goes out with, and the
    // message goes straight to the transport (this connection is open, and
    // a call is not a reply the send filter above could drop).
    const bus = this.#internals;
    const serial = bus.newSerial();
    (msg as unknown as { serial: number }).serial = serial;
    return new Promise<Message | null>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      const pending: Pending = { serial, settled: false, reject, deadline, req, timeoutMs };
      this.#pending.push(pending);
      this.#waiting++;
      // Runs during the reply's dispatch (dbus-next's handleMessage), while
      // its fds are in flight: a reply's fds go to the caller still waiting
      // for it; all others are closed once dispatched (incoming-fds.ts).
      bus._methodReturnHandlers[serial] = (reply) => {
        if (pending.settled) return;
        this.#settle(pending);
        if (reply.sender) bus._nameOwners[req.destination] = reply.sender;
        if (reply.type === MessageType.ERROR) reject(reviveError(new DBusError(reply.errorName!, reply.body[0] as string, reply)));
        else {
          recordReplyFds(reply, claimIncomingFds());
          resolve(reply);
        }
      };
      try {
        bus._connection.message(msg);
      } catch (e) {
        // Not sent (fds on a connection that cannot pass them): no reply will come.
        this.#settle(pending);
        delete bus._methodReturnHandlers[serial];
        reject(e instanceof DBusError ? reviveError(e) : e);
        return;
      }
      if (deadline < this.#sweepAt) this.#armSweep(deadline);
    });
  }

  #settle(p: Pending): void {
    p.settled = true;
    if (--this.#waiting === 0) this.#pending.length = 0;
    else if (this.#pending.length > 64 && this.#pending.length > 4 * this.#waiting) this.#pending = this.#pending.filter((q) => !q.settled);
  }

  #armSweep(deadline: number): void {
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    this.#sweepAt = deadline;
    this.#sweepTimer = setTimeout(() => this.#sweep(), Math.max(0, Math.ceil(deadline - performance.now())));
    this.#sweepTimer.unref();
  }

  /** Fails the calls whose deadline has passed, and sets the timer for the next one. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    const expired = this.#pending.filter((p) => !p.settled && p.deadline <= now);
    for (const p of expired) {
      this.#settle(p);
      delete this.#internals._methodReturnHandlers[p.serial];
    }
    for (const p of this.#pending) if (!p.settled && p.deadline < next) next = p.deadline;
    if (next !== Infinity) this.#armSweep(next);
    // In deadline order, whatever order the calls were made in.
    for (const { req, timeoutMs, reject } of expired.sort((a, b) => a.deadline - b.deadline)) {
      reject(new DBusError(StandardError.Timeout, `${req.interface}.${req.member} on ${req.destination} ${req.path}: no reply within ${timeoutMs} ms`));
    }
  }

  /** Subscribes to signals; the handler gets each matching message. */
  async subscribe(match: SignalMatch, handler: (msg: Message) => void): Promise<Subscription> {
    const listener: SignalListener = { match, rule: matchRule(match), handler };
    if (match.sender && !match.sender.startsWith(':') && match.sender !== DBUS.destination) await this.#trackOwner(match.sender);
    await this.#addMatch(listener.rule);
    this.#listeners.add(listener);
    return {
      unsubscribe: async () => {
        if (!this.#listeners.delete(listener)) return;
        if (!this.#closed) await this.#removeMatch(listener.rule).catch(() => undefined);
      },
    };
  }

  async requestName(name: string, flags = 0): Promise<number> {
    const reply = await this.call({ ...DBUS, member: 'RequestName', signature: 'su', body: [name, flags] });
    return reply!.body[0] as number;
  }

  /** Closes the connection; pending calls are rejected; resolves once the socket is closed. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#lost();
    await closeBus(this.bus);
  }

  #lost(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
    const waiting = this.#pending.filter((p) => !p.settled);
    for (const p of waiting) this.#settle(p);
    for (const p of waiting) p.reject(new DBusError(StandardError.Disconnected, 'the D-Bus connection was closed before the reply arrived'));
    this.#listeners.clear();
  }

  #onSignal(msg: Message): void {
    if (msg.sender === DBUS.destination && msg.member === 'NameOwnerChanged') {
      const [name, , owner] = msg.body as string[];
      if (this.#owners.has(name!)) this.#owners.set(name!, owner || undefined);
    }
    for (const l of this.#listeners) {
      const m = l.match;
      if (m.path && m.path !== msg.path) continue;
      if (m.pathNamespace && msg.path !== m.pathNamespace && !msg.path.startsWith(m.pathNamespace === '/' ? '/' : m.pathNamespace + '/')) continue;
      if (m.interface && m.interface !== msg.interface) continue;
      if (m.member && m.member !== msg.member) continue;
      if (m.sender && m.sender !== msg.sender && this.#owners.get(m.sender) !== msg.sender) continue;
      try {
        l.handler(msg);
      } catch (e) {
        process.emitWarning(`signal handler for ${l.rule} threw: ${(e as Error).message}`);
      }
    }
  }

  async #trackOwner(name: string): Promise<void> {
    if (this.#owners.has(name)) return;
    this.#owners.set(name, undefined);
    await this.#addMatch(`type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${name}'`);
    try {
      const reply = await this.call({ ...DBUS, member: 'GetNameOwner', signature: 's', body: [name] });
      this.#owners.set(name, reply!.body[0] as string);
    } catch {
      // not owned yet: NameOwnerChanged will tell us
    }
  }

  #addMatch(rule: string): Promise<unknown> {
    return this.call({ ...DBUS, member: 'AddMatch', signature: 's', body: [rule] });
  }

  #removeMatch(rule: string): Promise<unknown> {
    return this.call({ ...DBUS, member: 'RemoveMatch', signature: 's', body: [rule] });
  }
}
