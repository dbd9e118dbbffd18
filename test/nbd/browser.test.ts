// The browser module in a real browser: headless Chromium (Debian's, driven
// by playwright-core) loads a page from the fake bmcweb, logs in as the web
// UI does (cookie + CSRF token), and serves a File picked through
// <input type=file> to the /nbd/0 websocket; nbdcopy reads it through the
// relay's unix socket.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { makePki, type Pki } from '../daemon/support/tls-server.js';
import { requireCommand } from '../support/require-command.js';
import { FakeBmcweb } from './support/fake-bmcweb.js';
import { mustRun } from './support/run.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// The page: log in like webui-vue (POST /login sets the session cookie and
// XSRF-TOKEN), then serve the picked file with the CSRF token as subprotocol.
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

describe('nbd browser module in headless Chromium', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: Pki;
  let bmc: FakeBmcweb;
  let browser: Browser | undefined;

  before(async () => {
    const executablePath = requireCommand('chromium', 'chromium');
    requireCommand('nbdcopy', 'libnbd-bin');
    dir = mkdtempSync(join(tmpdir(), 'nbd-browser-'));
    pki = makePki(dir);
    bmc = new FakeBmcweb(pki, dir, [{ id: 'Slot_0', endpoint: '/nbd/0' }], { user: 'root', password: 'pw' });
    await bmc.start();
    const bundle = await build({ entryPoints: [join(ROOT, 'nbd/browser/index.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
    bmc.pages.set('/nbd-test/nbd.js', { type: 'text/javascript', body: Buffer.from(bundle.outputFiles[0]!.contents) });
    bmc.pages.set('/nbd-test/index.html', { type: 'text/html', body: PAGE });
    browser = await chromium.launch({
      executablePath,
      headless: true,
      // playwright gives the browser a fresh temporary profile (user data dir) of its own.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await bmc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('type-checks against the DOM without Node types (no Node API in the module or the core)', async () => {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'nbd/browser/tsconfig.json')]);
  });

  it('serves a File chosen in <input type=file>: nbdcopy through the relay reads its sha256; the host disconnecting ends the session', async () => {
    const image = join(dir, 'installer.iso');
    const bytes = randomBytes(8 * 1024 * 1024 + 4096);
    writeFileSync(image, bytes);
    // The test's self-made CA is not in Chromium's store: certificate errors are ignored for this page only.
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${bmc.url}/nbd-test/index.html`);
    assert.equal(await page.evaluate(() => (window as unknown as { login(u: string, p: string): Promise<number> }).login('root', 'pw')), 201);
    await page.setInputFiles('#image', image);
    const mounted = bmc.mounted('Slot_0');
    assert.equal(await page.evaluate(() => (window as unknown as { serve(): Promise<string> }).serve()), 'open');
    const socket = await mounted;
    const info = JSON.parse((await mustRun('nbdinfo', ['--json', `nbd+unix:///?socket=${socket}`])).stdout.toString()).exports[0];
    assert.equal(info['export-name'], 'installer.iso');
    assert.equal(info.is_read_only, true);
    assert.equal(info['export-size'], bytes.length);
    const end = await page.evaluate(() => (window as unknown as { ended: Promise<unknown> }).ended);
    // Who closes first (we after NBD_CMD_DISC, or the relay when the client's socket closes) is a race; both are normal closes.
    assert.equal((end as { reason: string }).reason, 'disconnect');
    assert.equal((end as { code: number }).code, 1000);

    await page.evaluate(() => (window as unknown as { serve(): Promise<string> }).serve());
    const again = await bmc.mounted('Slot_0');
    const copy = await mustRun('nbdcopy', [`nbd+unix:///?socket=${again}`, '-']);
    assert.equal(sha256(copy.stdout), sha256(bytes));
    const stats = await page.evaluate(async () => {
      const w = window as unknown as { ended: Promise<unknown>; session: { stats: unknown } };
      await w.ended;
      return w.session.stats;
    });
    assert.equal((stats as { bytesRead: number }).bytesRead, bytes.length);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('without the CSRF token as subprotocol bmcweb refuses the websocket, and the page is told', async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${bmc.url}/nbd-test/index.html`);
    await page.evaluate(() => (window as unknown as { login(u: string, p: string): Promise<number> }).login('root', 'pw'));
    await page.setInputFiles('#image', { name: 'x.img', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4096) });
    const outcome = await page.evaluate(() => (window as unknown as { serve(p: string[]): Promise<string> }).serve([]));
    assert.match(outcome, /closed before opening \(code 1006\)/);
    assert.ok(bmc.requests.includes('UPGRADE /nbd/0'));
    await context.close();
  });
});
