// The operator's browser in the proxy e2e: headless Chromium on the host
// (another machine than the BMC, as in real use) loads the test page from the
// guest's fake bmcweb through a forwarded port, logs in and serves a File
// through the browser module when the guest asks, and calls session.stop()
// when the guest asks again (test/e2e/guest/proxy/browser-link.ts). Page,
// Redfish login and websocket share one origin, https://127.0.0.1:<port>,
// as the web UI bmcweb serves does.
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PAGE_PATH, pageApi } from '../../nbd/support/browser-page.js';
import { within } from '../../support/within.js';
import { parseAsk, PROXY_PASSWORD, PROXY_USER, writeHostReport, type GuestAsk, type HostReport } from '../guest/proxy/browser-link.js';

/** Each page step is quick on the host; the guest's side (relay, daemon under TCG) sets the pace. Hang guards only. */
const STEP_MS = 180_000;

/** A page step, bounded. */
const step = <T>(what: string, p: Promise<T>): Promise<T> => within(what, p, STEP_MS);

export class HostBrowser {
  /** Everything reported to the guest, in order (the test asserts on it too). */
  readonly reports: HostReport[] = [];
  private context: BrowserContext | undefined;
  private page: Page | undefined;
  private readonly pageErrors: string[] = [];
  private readonly pending = new Set<Promise<void>>();
  private port: number | undefined;
  /** Asks already taken: the guest repeats an ask until it sees the answer. */
  private readonly taken = new Set<string>();

  constructor(private readonly browser: Browser, private readonly share: string) {}

  /** The host end of the forwarded port (runInVm's onForwarded). */
  forwardedTo(port: number): void {
    this.port = port;
  }

  /** For runInVm's onLine: acts on the guest's asks, ignores every other line. */
  onLine(line: string): void {
    const ask = parseAsk(line);
    if (!ask || this.taken.has(line.trim())) return;
    this.taken.add(line.trim());
    const done = this.handle(ask)
      .catch((e: unknown): HostReport => ({ step: 'failed', during: ask.do === 'serve' ? `serving ${ask.file}` : 'stopping the session', error: (e as Error).message.split('\n')[0]! }))
      .then((report) => {
        this.reports.push(report);
        // The share outlives the run (the test removes it after settle()); a write that still fails only loses the guest's copy.
        try {
          writeHostReport(this.share, report);
        } catch (e) {
          this.reports.push({ step: 'failed', during: 'reporting to the guest', error: (e as Error).message });
        }
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  private handle(ask: GuestAsk): Promise<HostReport> {
    return ask.do === 'serve' ? this.serve(ask.file) : this.stop();
  }

  private async serve(file: string): Promise<HostReport> {
    if (this.port === undefined) throw new Error('no forwarded port known');
    if (this.page) throw new Error('asked to serve twice');
    const t0 = Date.now();
    this.context = await this.browser.newContext({ ignoreHTTPSErrors: true });
    const page = (this.page = await this.context.newPage());
    page.on('pageerror', (e) => this.pageErrors.push(e.message));
    page.setDefaultTimeout(STEP_MS);
    await page.goto(`https://127.0.0.1:${this.port}${PAGE_PATH}`);
    const status = await step('the login', pageApi.login(page, PROXY_USER, PROXY_PASSWORD));
    if (status !== 201) throw new Error(`the page's login got HTTP ${status}`);
    await page.setInputFiles('#image', join(this.share, file));
    const pageLoadMs = Date.now() - t0;
    const opened = await step('the websocket to open', pageApi.serve(page));
    if (opened !== 'open') throw new Error(`the page's websocket did not open: ${opened}`);
    return { step: 'serving', pageLoadMs, openMs: Date.now() - t0 - pageLoadMs };
  }

  private async stop(): Promise<HostReport> {
    const page = this.page;
    if (!page) throw new Error('asked to stop with no page serving');
    await step('session.stop()', pageApi.stop(page));
    const end = await step("the page's session to end", pageApi.ended(page));
    const stats = await step('the final stats', pageApi.finalStats(page));
    return { step: 'stopped', end, bytesRead: stats.bytesRead, pageErrors: [...this.pageErrors] };
  }

  /** Waits for what is under way (bounded by the steps' own guards) and closes the page. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await this.context?.close().catch(() => undefined);
  }
}
