// One mount point's state machine. Mount and Unmount answer at once (after
// their pre-checks) and do the work in the background; the outcome is
// reported through view.completion(errno). A watchdog (Timeout + 5 s) ends an
// operation that hangs; a supervised child that dies tears the medium down.
import { Mode, type MountPointConfig } from '../config/types.js';
import { Errno, OperationError, errnoOf } from '../util/errno.js';
import { activate } from './activation.js';
import type { MountPointEnvironment } from './environment.js';
import { InactivityMonitor } from './inactivity.js';
import type { MountRequest } from './request.js';
import { Session } from './session.js';
import { checkMountAllowed, checkUnmountAllowed, type State } from './state.js';
import type { MountPointView } from './view.js';
import { exitCodeProperty, type Exit } from '../process/child.js';

/** Added to the configured Timeout before the watchdog gives up (as Intel's daemon did). */
export const WATCHDOG_GRACE_SECONDS = 5;
/** How long to collect the exits of children dying together before reacting. */
const CHILD_DEATH_GRACE_MS = 150;

export class MountPoint {
  #state: State = 'ready';
  #session: Session | undefined;
  #inactivity: InactivityMonitor | undefined;
  /** The running operation, so shutdown can wait for it. */
  #operation: Promise<void> = Promise.resolve();
  #abort: AbortController | undefined;
  /**
   * The proxy peer ended the medium (bmcweb closed the socket when its
   * websocket closed) and bmcweb's Unmount, which follows, is still due.
   */
  #peerEnded = false;

  constructor(
    readonly config: MountPointConfig,
    readonly env: MountPointEnvironment,
    readonly view: MountPointView,
  ) {}

  get state(): State {
    return this.#state;
  }

  /** Reserves the mount point for a Mount whose arguments are still being read. Throws StateError. */
  reserve(): void {
    checkMountAllowed(this.#state);
    this.#state = 'activating';
    this.#peerEnded = false;
  }

  /** Gives a reservation back (the Mount's arguments were bad). */
  release(): void {
    if (this.#state === 'activating' && !this.#session) this.#state = 'ready';
  }

  /** Starts inserting; call after reserve(). Returns true: the work has started. */
  startMount(req: MountRequest): boolean {
    if (this.#state !== 'activating' || this.#session) throw new Error('startMount without reserve');
    const session = new Session(this.config, this.env);
    this.#session = session;
    this.view.setExitCode(0);
    this.view.setIo(0n, 0n);
    this.#operation = this.#runMount(session, req);
    return true;
  }

  /** Starts ejecting. Throws StateError when there is nothing to eject or an operation runs. */
  unmount(): boolean {
    // bmcweb closes the proxy socket first and calls Unmount after: the eject
    // it asks for is the one already running (or done), not an error.
    if (this.#peerEnded && (this.#state === 'deactivating' || this.#state === 'ready')) {
      this.#peerEnded = false;
      this.env.log.info(`${this.config.id}: Unmount after the proxy peer closed: already ${this.#state === 'ready' ? 'ejected' : 'ejecting'}`);
      return true;
    }
    checkUnmountAllowed(this.#state);
    this.#beginEject(Errno.OK, 'eject requested');
    return true;
  }

  /** For SIGTERM: cancels what runs, ejects what is inserted, resolves when all is released. */
  async shutdown(): Promise<void> {
    this.#abort?.abort(new OperationError(Errno.ECANCELED, 'the daemon is stopping'));
    await this.#operation;
    if (this.#state === 'active') {
      this.#beginEject(Errno.OK, 'the daemon is stopping');
      await this.#operation;
    }
  }

  async #runMount(session: Session, req: MountRequest): Promise<void> {
    const log = this.env.log;
    const abort = new AbortController();
    this.#abort = abort;
    const watchdog = this.#startWatchdog(abort, 'inserting');
    session.onChildExit = (name, exit) => this.#onChildExit(session, abort, name, exit);
    log.info(`${this.config.id}: inserting ${describeRequest(req)}`);
    try {
      const inserted = await activate(session, req, abort.signal);
      const url = req.kind === 'legacy' ? req.image.url : '';
      this.view.setMedium(url, inserted.writeProtected);
      this.view.setActive(true);
      this.#state = 'active';
      this.#startInactivity();
      log.info(`${this.config.id}: inserted as ${inserted.cdrom ? 'CD-ROM' : 'disk'}${inserted.writeProtected ? ' (read-only)' : ''} on ${inserted.udc}`);
      this.view.completion(Errno.OK);
    } catch (e) {
      const errno = abort.signal.aborted ? errnoOf(abort.signal.reason) : errnoOf(e);
      log.error(`${this.config.id}: insertion failed (errno ${errno}): ${(abort.signal.reason as Error | undefined)?.message ?? (e as Error).message}`);
      // Still under the insertion's watchdog: if it already fired, the
      // teardown is urgent from the start; if it fires now, it turns urgent.
      await session.teardown(abort.signal);
      this.#session = undefined;
      this.#state = 'ready';
      this.view.setMedium('', true);
      this.view.completion(errno);
    } finally {
      clearTimeout(watchdog);
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  #beginEject(errno: number, why: string): void {
    const session = this.#session;
    if (this.#state !== 'active' || !session) return;
    this.#state = 'deactivating';
    this.#inactivity?.stop();
    this.#inactivity = undefined;
    this.env.log.info(`${this.config.id}: ejecting: ${why}`);
    this.#operation = this.#runEject(session, errno);
  }

  async #runEject(session: Session, errno: number): Promise<void> {
    const abort = new AbortController();
    const watchdog = this.#startWatchdog(abort, 'ejecting');
    await session.teardown(abort.signal);
    clearTimeout(watchdog);
    if (abort.signal.aborted) this.env.log.error(`${this.config.id}: ${(abort.signal.reason as Error).message}: what still ran was killed`);
    this.#finishEject(abort.signal.aborted ? Errno.ETIMEDOUT : errno);
  }

  #finishEject(errno: number): void {
    this.#session = undefined;
    this.#state = 'ready';
    this.view.setActive(false);
    this.view.setMedium('', true);
    this.view.setRemainingInactivityTimeout(0);
    this.env.log.info(`${this.config.id}: ejected${errno ? ` (errno ${errno})` : ''}`);
    this.view.completion(errno);
  }

  #startWatchdog(abort: AbortController, what: string): NodeJS.Timeout {
    const seconds = this.config.timeout + WATCHDOG_GRACE_SECONDS;
    return setTimeout(() => abort.abort(new OperationError(Errno.ETIMEDOUT, `${what} did not finish within ${seconds} s`)), seconds * 1000);
  }

  #onChildExit(session: Session, abort: AbortController, name: string, exit: Exit): void {
    if (session.stopping || this.#session !== session) return;
    session.deaths.push({ name, exit });
    if (session.deaths.length > 1) return;
    // When nbdkit dies, nbd-client follows within milliseconds (often with
    // status 0), and either exit may be seen first. Wait a moment so ExitCode
    // reports the server's status, which says what happened.
    setTimeout(() => {
      const telling = session.deaths.find((d) => d.name === 'nbdkit') ?? session.deaths[0]!;
      this.view.setExitCode(exitCodeProperty(telling.exit));
      if (this.#state === 'active' && this.#session === session && !session.stopping && this.#isPeerClose(telling)) {
        this.env.log.info(`${this.config.id}: the proxy peer closed the connection (nbd-client ended with status 0)`);
        this.#peerEnded = true;
        this.#beginEject(Errno.OK, 'the proxy peer closed the connection');
        return;
      }
      const why = `${telling.name} exited unexpectedly (${telling.exit.signal ?? `status ${telling.exit.code}`})`;
      this.env.log.error(`${this.config.id}: ${why}`);
      if (this.#session !== session || session.stopping) return;
      if (this.#state === 'activating') abort.abort(new OperationError(Errno.ECONNREFUSED, why));
      else if (this.#state === 'active') this.#beginEject(Errno.ECONNREFUSED, why);
    }, CHILD_DEATH_GRACE_MS);
  }

  /**
   * In proxy mode the medium ends when bmcweb's websocket closes: bmcweb
   * closes our socket's peer, and nbd-client, losing its server, returns
   * from the kernel and exits 0 (as it does after `nbd-client -d`). That is
   * the normal end of a proxy medium, not a failure.
   */
  #isPeerClose(death: { name: string; exit: Exit }): boolean {
    return this.config.mode === Mode.Proxy && death.name === 'nbd-client' && death.exit.code === 0 && !death.exit.signal;
  }

  #startInactivity(): void {
    const { env, config, view } = this;
    this.#inactivity = new InactivityMonitor({
      statsPath: env.gadget.statsPath(config.id),
      timeoutSeconds: env.config.inactivityTimeout,
      view,
      onIdle: () => this.#beginEject(Errno.OK, `no I/O for ${env.config.inactivityTimeout} s`),
      onNoCounters: () =>
        env.warnOnce('no-lun-stats', 'the kernel has no mass-storage lun stats (patch missing): the inactivity timeout is disabled and I/O counters stay 0'),
    });
    this.#inactivity.start();
  }
}

function describeRequest(req: MountRequest): string {
  if (req.kind === 'proxy') return 'the medium served by bmcweb';
  // Without the query: presigned URLs carry their signature there.
  const url = new URL(req.image.url);
  return `${req.image.kind === 'https' ? 'HTTPS' : 'SMB'} image ${url.origin === 'null' ? url.protocol + '//' + url.host : url.origin}${url.pathname}${req.readWrite ? ' read-write' : ''}${req.credentials ? ' with credentials' : ''}`;
}
