// The test page of the browser module, served by the fake bmcweb, and the
// headless Chromium that loads it. The page logs in like webui-vue (POST
// /login sets the session cookie and XSRF-TOKEN), then serves the file
// picked in <input type=file> with the CSRF token as the websocket
// subprotocol. Used on the host (test/nbd/browser.test.ts, and the e2e VM's
// browser, test/e2e/host/proxy-browser.ts); the fake bmcweb in the VM publishes it
// (test/e2e/guest/proxy/).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// esbuild and playwright-core load only when used: the e2e guest publishes
// the page (a bundle made on the host) and never launches a browser.
import type { Browser, Page } from 'playwright-core';
import type { FakeBmcweb } from './fake-bmcweb.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export const PAGE_PATH = '/nbd-test/index.html';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<input type="file" id="image">
<script type="module">
  import { serveFile } from './nbd.js';
  const csrf = () => /(?:^|; )XSRF-TOKEN=([^;]+)/.exec(document.cookie)?.[1];
  window.login = async (username, password) => {
    const r = await fetch('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return r.status;
  };
  window.serve = (protocols) => {
    const file = document.getElementById('image').files[0];
    window.session = serveFile(file, 'wss://' + location.host + '/nbd/0', { protocols: protocols ?? [csrf()] });
    window.ended = window.session.done;
    return window.session.opened.then(() => 'open', (e) => e.message);
  };
</script>`;

/** nbd/browser/index.ts bundled by esbuild: what a web UI would ship. */
export async function bundleBrowserModule(): Promise<Buffer> {
  const { build } = await import('esbuild');
  const bundle = await build({ entryPoints: [join(ROOT, 'nbd/browser/index.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
  return Buffer.from(bundle.outputFiles[0]!.contents);
}

/** Puts the page and the bundled module (made here unless given) on the fake bmcweb. */
export async function publishTestPage(bmc: FakeBmcweb, bundle?: Buffer): Promise<void> {
  bmc.pages.set('/nbd-test/nbd.js', { type: 'text/javascript', body: bundle ?? (await bundleBrowserModule()) });
  bmc.pages.set(PAGE_PATH, { type: 'text/html', body: PAGE });
}

/**
 * Debian's chromium, headless, through playwright-core (which gives it a
 * fresh temporary profile). Few processes, no proxy lookup, no background
 * traffic: the tests' machines are shared and have no network to spare.
 */
export async function launchChromium(executablePath: string, timeoutMs = 30_000): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: timeoutMs,
    args: [
      '--no-sandbox',
      '--no-zygote',
      '--no-proxy-server',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-extensions',
      '--enable-features=NetworkServiceInProcess2',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The page's functions, called from the test. */
export const pageApi = {
  login: (page: Page, user: string, password: string): Promise<number> =>
    page.evaluate(([u, p]) => (window as unknown as { login(u: string, p: string): Promise<number> }).login(u!, p!), [user, password]),
  /** 'open', or why the websocket did not open. `protocols` replaces the CSRF subprotocol. */
  serve: (page: Page, protocols?: string[]): Promise<string> =>
    page.evaluate((p) => (window as unknown as { serve(p?: string[]): Promise<string> }).serve(p ?? undefined), protocols ?? null),
  /** session.stop(): the page ejects. */
  stop: (page: Page): Promise<void> => page.evaluate(() => (window as unknown as { session: { stop(): void } }).session.stop()),
  /** The session's end ({ reason, code, closeReason }). */
  ended: (page: Page): Promise<{ reason: string; code: number; closeReason?: string }> =>
    page.evaluate(() => (window as unknown as { ended: Promise<{ reason: string; code: number; closeReason?: string }> }).ended),
  /** The session's stats, once it ended. */
  finalStats: (page: Page): Promise<{ bytesRead: number; reads: number; errors: number }> =>
    page.evaluate(async () => {
      const w = window as unknown as { ended: Promise<unknown>; session: { stats: { bytesRead: number; reads: number; errors: number } } };
      await w.ended;
      return w.session.stats;
    }),
};
