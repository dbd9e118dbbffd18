// How the proxy e2e's two halves of the browser scenario talk. The operator's
// browser is on another machine than the BMC: headless Chromium runs on the
// host (test/e2e/host/proxy-browser.ts) and reaches the guest's fake bmcweb
// through a forwarded port; the guest (scenarios.ts) owns the scenario and
// checks the USB side.
// - guest → host: console lines `E2E-PROXY-BROWSER serve <file>` (load the
//   page, log in, serve <file>, a path under the share) and
//   `E2E-PROXY-BROWSER stop` (session.stop()); runInVm's onLine sees them as
//   they come. The guest repeats an ask until the host answered it (a kernel
//   message may garble a console line); the host takes each ask once;
// - host → guest: one JSON line per finished request appended to
//   $E2E_SHARE/browser-host.jsonl (the share has no cache in the guest), a
//   failure included, so the guest fails at once naming the host's step.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the guest's fake bmcweb listens (bmcweb's own port); the host forwards a free port of its loopback to it. */
export const BROWSER_GUEST_PORT = 443;
/** The fake bmcweb's root password in the proxy e2e: a test credential, never printed. */
export const PROXY_PASSWORD = 'pr0xy e2e';
export const PROXY_USER = 'root';

const PREFIX = 'E2E-PROXY-BROWSER';
const REPORTS = 'browser-host.jsonl';
/** How often the guest repeats an ask the host has not answered yet. */
const ASK_AGAIN_MS = 15_000;

export type GuestAsk = { do: 'serve'; file: string } | { do: 'stop' };

export type HostReport =
  | { step: 'serving'; pageLoadMs: number; openMs: number }
  | { step: 'stopped'; end: { reason: string; code: number; closeReason?: string }; bytesRead: number; pageErrors: string[] }
  | { step: 'failed'; during: string; error: string };

export function askLine(ask: GuestAsk): string {
  if (ask.do === 'serve' && /\s/.test(ask.file)) throw new Error(`a file to serve must have no spaces: ${ask.file}`);
  return ask.do === 'serve' ? `${PREFIX} serve ${ask.file}` : `${PREFIX} stop`;
}

/** The guest's ask in a console line, or undefined for any other line. */
export function parseAsk(line: string): GuestAsk | undefined {
  const m = /^E2E-PROXY-BROWSER (?:serve (\S+)|(stop))\s*$/.exec(line);
  if (!m) return undefined;
  return m[2] ? { do: 'stop' } : { do: 'serve', file: m[1]! };
}

/** What the host's first failure report says, if there is one. */
function hostFailure(reports: HostReport[]): string | undefined {
  const failed = reports.find((r) => r.step === 'failed');
  return failed?.step === 'failed' ? `the host's browser failed while ${failed.during}: ${failed.error}` : undefined;
}

/** Host side. */
export function writeHostReport(share: string, report: HostReport): void {
  appendFileSync(join(share, REPORTS), `${JSON.stringify(report)}\n`);
}

/**
 * Guest side: reads the host's reports as they land (one read of the file a
 * tick, for every wait). `next(step)` resolves with the first report of that
 * step not yet taken; a `failed` report rejects every wait, naming what the
 * host was doing.
 */
export class HostReports {
  private taken = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly waiters = new Set<(reports: HostReport[]) => void>();

  /** `say` prints a line on the console (a test on the host hands it to the host's side directly). */
  constructor(
    private readonly share: string,
    private readonly say: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {
    this.timer = setInterval(() => {
      if (this.waiters.size === 0) return;
      const reports = this.read();
      for (const w of [...this.waiters]) w(reports);
    }, 250);
  }

  private read(): HostReport[] {
    let text = '';
    try {
      text = readFileSync(join(this.share, REPORTS), 'utf8');
    } catch {
      return [];
    }
    // A line still being written has no newline yet: only whole lines count.
    return text
      .split('\n')
      .slice(0, -1)
      .map((line): HostReport => {
        try {
          return JSON.parse(line) as HostReport;
        } catch {
          return { step: 'failed', during: 'reporting', error: `unparsable report line: ${line.slice(0, 200)}` };
        }
      });
  }

  private watch(check: (reports: HostReport[]) => boolean): void {
    const waiter = (reports: HostReport[]): void => {
      if (check(reports)) this.waiters.delete(waiter);
    };
    this.waiters.add(waiter);
  }

  /**
   * Asks the host on the console, again every ASK_AGAIN_MS until a report
   * `answer` (or a failure) arrives after the first ask, or close().
   */
  ask(ask: GuestAsk, answer: HostReport['step']): void {
    const line = askLine(ask);
    const before = this.read().length;
    this.say(line);
    let last = Date.now();
    this.watch((reports) => {
      if (reports.slice(before).some((r) => r.step === answer || r.step === 'failed')) return true;
      if (Date.now() - last >= ASK_AGAIN_MS) {
        last = Date.now();
        this.say(line);
      }
      return false;
    });
  }

  /** Resolves with why, once the host reported a failure (a `gone` for the waits on the guest's side). */
  failure(): Promise<string> {
    return new Promise((resolve) =>
      this.watch((reports) => {
        const why = hostFailure(reports);
        if (why === undefined) return false;
        resolve(why);
        return true;
      }),
    );
  }

  next<S extends HostReport['step']>(step: S, ms: number): Promise<Extract<HostReport, { step: S }>> {
    const deadline = Date.now() + ms;
    return new Promise((resolve, reject) =>
      this.watch((reports) => {
        const failed = hostFailure(reports);
        const index = reports.findIndex((r, i) => i >= this.taken && r.step === step);
        if (failed !== undefined) reject(new Error(failed));
        else if (index >= 0) {
          this.taken = index + 1;
          resolve(reports[index] as Extract<HostReport, { step: S }>);
        } else if (Date.now() > deadline) reject(new Error(`timed out after ${ms} ms waiting for the host's browser to report '${step}'`));
        else return false;
        return true;
      }),
    );
  }

  /** Stops reading; waits still open stay unsettled (call it once nothing waits). */
  close(): void {
    clearInterval(this.timer);
    this.waiters.clear();
  }
}
