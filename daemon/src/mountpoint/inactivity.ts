// Counts down RemainingInactivityTimeout while the host does no I/O on the
// medium, from the kernel's per-LUN counters, and asks for an eject at zero.
// Without counters (an unpatched kernel) it cannot tell idle from busy, so it
// never ejects: the timeout is disabled with a warning.
import { readLunStats } from '../seams/lun-stats.js';
import type { MountPointView } from './view.js';

export interface InactivityOptions {
  readonly statsPath: string;
  /** Seconds; 0 disables the eject (counters are still published). */
  readonly timeoutSeconds: number;
  readonly view: MountPointView;
  readonly onIdle: () => void;
  readonly onNoCounters: () => void;
}

/** One tick per second: RemainingInactivityTimeout counts seconds. */
const TICK_MS = 1000;

export class InactivityMonitor {
  #timer: NodeJS.Timeout | undefined;
  #remaining: number;
  #last: { read: bigint; write: bigint } | undefined;

  constructor(readonly o: InactivityOptions) {
    this.#remaining = o.timeoutSeconds;
  }

  start(): void {
    this.#tick(true);
    if (this.#timer === undefined && this.#enabledOrCounting()) this.#timer = setInterval(() => this.#tick(false), TICK_MS);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.o.view.setRemainingInactivityTimeout(0);
  }

  #enabledOrCounting(): boolean {
    return this.#last !== undefined;
  }

  #tick(first: boolean): void {
    const stats = readLunStats(this.o.statsPath);
    if (!stats) {
      if (first) {
        this.o.onNoCounters();
        this.o.view.setRemainingInactivityTimeout(0);
      }
      // Counters vanished mid-way (gadget gone): nothing to measure any more.
      this.stop();
      return;
    }
    const now = { read: stats.readCommands, write: stats.writeCommands };
    this.o.view.setIo(now.read, now.write);
    const changed = !this.#last || now.read !== this.#last.read || now.write !== this.#last.write;
    this.#last = now;
    if (this.o.timeoutSeconds === 0) return;
    if (first || changed) this.#remaining = this.o.timeoutSeconds;
    else this.#remaining = Math.max(0, this.#remaining - 1);
    this.o.view.setRemainingInactivityTimeout(Math.min(this.#remaining, 65535));
    if (this.#remaining === 0) {
      this.stop();
      this.o.onIdle();
    }
  }
}
