// Watches the guest driver's own event loop. A D-Bus call "without a reply"
// can be the daemon's fault, or this process's: a loop stuck longer than the
// call's timeout runs the timeout before it reads the reply that is waiting.
// Every stall longer than STALL_MS is kept, so a failure can say which.

const TICK_MS = 500;
const STALL_MS = 3000;

export interface Stall {
  at: string;
  ms: number;
}

export class LoopLagWatch {
  readonly stalls: Stall[] = [];
  #timer: NodeJS.Timeout | undefined;

  start(): void {
    let expected = Date.now() + TICK_MS;
    this.#timer = setInterval(() => {
      const now = Date.now();
      const late = now - expected;
      if (late > STALL_MS) this.stalls.push({ at: new Date(now - late).toISOString(), ms: late });
      expected = now + TICK_MS;
    }, TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The stalls since `sinceMs` (epoch ms), for a failure's reason. */
  since(sinceMs: number): string {
    const recent = this.stalls.filter((s) => Date.parse(s.at) >= sinceMs);
    return recent.length ? recent.map((s) => `${s.ms} ms at ${s.at}`).join(', ') : 'none';
  }
}
