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
import type { Browser } from 'playwright-core';
import { makePki, type Pki } from '../daemon/support/tls-server.js';
import { requireCommand } from '../support/require-command.js';
import { launchChromium, PAGE_PATH, pageApi, publishTestPage } from './support/browser-page.js';
import { FakeBmcweb } from './support/fake-bmcweb.js';
import { mustRun } from './support/run.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

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
    await publishTestPage(bmc);
    browser = await launchChromium(executablePath);
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
    await page.goto(`${bmc.url}${PAGE_PATH}`);
    assert.equal(await pageApi.login(page, 'root', 'pw'), 201);
    await page.setInputFiles('#image', image);
    const mounted = bmc.mounted('Slot_0');
    assert.equal(await pageApi.serve(page), 'open');
    const socket = await mounted;
    const info = JSON.parse((await mustRun('nbdinfo', ['--json', `nbd+unix:///?socket=${socket}`])).stdout.toString()).exports[0];
    assert.equal(info['export-name'], 'installer.iso');
    assert.equal(info.is_read_only, true);
    assert.equal(info['export-size'], bytes.length);
    const end = await pageApi.ended(page);
    // Who closes first (we after NBD_CMD_DISC, or the relay when the client's socket closes) is a race; both are normal closes.
    assert.equal(end.reason, 'disconnect');
    assert.equal(end.code, 1000);

    await pageApi.serve(page);
    const again = await bmc.mounted('Slot_0');
    const copy = await mustRun('nbdcopy', [`nbd+unix:///?socket=${again}`, '-']);
    assert.equal(sha256(copy.stdout), sha256(bytes));
    const stats = await pageApi.finalStats(page);
    assert.equal(stats.bytesRead, bytes.length);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('without the CSRF token as subprotocol bmcweb refuses the websocket, and the page is told', async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${bmc.url}${PAGE_PATH}`);
    await pageApi.login(page, 'root', 'pw');
    await page.setInputFiles('#image', { name: 'x.img', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4096) });
    const outcome = await pageApi.serve(page, []);
    assert.match(outcome, /closed before opening \(code 1006\)/);
    assert.ok(bmc.requests.includes('UPGRADE /nbd/0'));
    await context.close();
  });
});
