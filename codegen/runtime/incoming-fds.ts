// Who owns the unix fds that arrive with a message. sd-bus closes them when
// the message is freed; dbus-next never does, so every fd a caller sends
// would stay open in this process forever. The rule here, for every message
// whatever path it takes:
//
// - The message parser (message-parser.ts) hands the message to dbus-next's
//   synchronous dispatch with its fds "in flight" and closes them as soon as
//   that dispatch returns, unless somebody claimed them meanwhile.
// - A generated method handler's wrapper and the Properties handler claim
//   them and close them when the call is answered (handlers that want to keep
//   an fd dup it: `openSync('/proc/self/fd/N')` or pass it on before returning).
// - A method reply carrying fds for a call still waiting is claimed by
//   Connection and handed to the caller, who owns them from then on.
// - Everything else (unknown methods and paths, wrong signatures, Introspect,
//   Peer, signals, replies after a timeout) is closed by the parser.
import { closeSync } from 'node:fs';

// Shared by every copy of the runtime in the process (a bundled daemon and a
// test, a service's own bindings and an installed client package): there is
// one dbus-next parser, so there must be one record of the fds in flight.
interface SharedState {
  inFlight: number[];
  replyFds: WeakMap<object, number[]>;
}
const shared: SharedState = ((globalThis as Record<symbol, unknown>)[Symbol.for('openbmc-dbus-runtime.incoming-fds')] ??= {
  inFlight: [],
  replyFds: new WeakMap(),
}) as SharedState;

/** What claimIncomingFds hands out for a message without fds (nearly all): nothing allocated per call. */
const NONE: number[] = Object.freeze([]) as unknown as number[];

/** Called by the parser around one message's dispatch. */
export function dispatchWithFds(fds: number[], dispatch: () => void): void {
  shared.inFlight = fds.length > 0 ? fds : NONE;
  try {
    dispatch();
  } finally {
    const left = shared.inFlight;
    shared.inFlight = NONE;
    if (left.length > 0) closeFds(left);
  }
}

/**
 * Takes ownership of the fds of the message being dispatched right now
 * (valid only during dbus-next's synchronous dispatch). The caller must close
 * them (closeFds) when it is done.
 */
export function claimIncomingFds(): number[] {
  const fds = shared.inFlight;
  if (fds.length > 0) shared.inFlight = NONE;
  return fds;
}

/** Closes each fd once; an fd already closed is not an error. */
export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // EBADF: nothing to release
    }
  }
}

/** Closes `fds` when `work` settles; returns `work`. */
export function closeFdsWhenSettled<T>(fds: readonly number[], work: Promise<T>): Promise<T> {
  if (fds.length === 0) return work;
  return work.finally(() => closeFds(fds));
}

/** Records the fds a reply handed to its caller (see Connection.call). */
export function recordReplyFds(reply: object, fds: number[]): void {
  if (fds.length) shared.replyFds.set(reply, fds);
}

/** The fds that arrived with a reply now owned by its caller (empty when none). */
export function fdsOfReply(reply: object): readonly number[] {
  return shared.replyFds.get(reply) ?? [];
}
