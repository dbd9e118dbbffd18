// The two halves of the proxy e2e's browser scenario, without a VM: the
// host's HostBrowser (real headless Chromium) and the guest's HostReports
// (the share's report file), wired console-to-onLine directly, against the
// fake bmcweb listening on every address as it does in the guest; nbdcopy
// stands in for the daemon's nbd-client on the relay's socket.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { makePki, type Pki } from '../daemon/support/tls-server.js';
import { launchChromium, publishTestPage } from '../nbd/support/browser-page.js';
import { FakeBmcweb } from '../nbd/support/fake-bmcweb.js';
import { mustRun } from '../nbd/support/run.js';
import { requireCommand } from '../support/require-command.js';
import { askLine, HostReports, parseAsk, PROXY_PASSWORD, PROXY_USER } from './guest/proxy/browser-link.js';
import { HostBrowser } from './host/proxy-browser.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('e2e proxy: the browser link between host and guest (no VM)', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: Pki;
  let bmc: FakeBmcweb;
  let browser: Browser | undefined;
  const hosts: HostBrowser[] = [];
  const guests: HostReports[] = [];

  /** A share, the host's browser on it and the guest's reader of it, the guest's console going straight to the host. */
  function link(name: string): { share: string; host: HostBrowser; guest: HostReports; said: string[] } {
    const share = join(dir, name);
    mkdirSync(join(share, 'browser'), { recursive: true });
    const host = new HostBrowser(browser!, share);
    host.forwardedTo(bmc.port);
    const said: string[] = [];
    const guest = new HostReports(share, (line) => {
      said.push(line);
      host.onLine(line);
    });
    hosts.push(host);
    guests.push(guest);
    return { share, host, guest, said };
  }

  before(async () => {
    const executablePath = requireCommand('chromium', 'chromium');
    requireCommand('nbdcopy', 'libnbd-bin');
    dir = mkdtempSync(join(tmpdir(), 'browser-link-'));
    pki = makePki(dir);
    bmc = new FakeBmcweb(pki, dir, [{ id: 'Slot_0', endpoint: '/nbd/0' }], { user: PROXY_USER, password: PROXY_PASSWORD });
    await bmc.start({ host: '0.0.0.0' });
    await publishTestPage(bmc);
    browser = await launchChromium(executablePath);
  });
  after(async () => {
    for (const g of guests) g.close();
    for (const h of hosts) await h.settle();
    await browser?.close();
    await bmc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads asks from console lines only, exactly', () => {
    assert.deepEqual(parseAsk(askLine({ do: 'serve', file: 'browser/a.img' })), { do: 'serve', file: 'browser/a.img' });
    assert.deepEqual(parseAsk('E2E-PROXY-BROWSER stop'), { do: 'stop' });
    assert.equal(parseAsk('[  12.3] E2E-PROXY-BROWSER stop'), undefined);
    assert.equal(parseAsk('E2E-PROXY-BROWSER serve'), undefined);
    assert.throws(() => askLine({ do: 'serve', file: 'a b.img' }), /no spaces/);
  });

  it('serve: the page logs in and serves the file (nbdcopy reads its sha256); stop: the host reports the end and the bytes; a repeated ask is taken once', async () => {
    const { share, host, guest } = link('ok');
    const bytes = randomBytes(3 * 1024 * 1024 + 512);
    writeFileSync(join(share, 'browser/installer.img'), bytes);
    const mounted = bmc.mounted('Slot_0');
    guest.ask({ do: 'serve', file: 'browser/installer.img' }, 'serving');
    host.onLine(askLine({ do: 'serve', file: 'browser/installer.img' })); // as the guest repeats an unanswered ask
    const socket = await mounted;
    const serving = await guest.next('serving', 60_000);
    assert.ok(serving.pageLoadMs >= 0 && serving.openMs >= 0);
    const copy = await mustRun('nbdcopy', [`nbd+unix:///?socket=${socket}`, '-']);
    assert.equal(sha256(copy.stdout), sha256(bytes));
    guest.ask({ do: 'stop' }, 'stopped');
    const stopped = await guest.next('stopped', 60_000);
    // nbdcopy's NBD_CMD_DISC ended the session before the stop: the host reports how it ended.
    assert.equal(stopped.end.reason, 'disconnect');
    assert.equal(stopped.bytesRead, bytes.length);
    assert.deepEqual(stopped.pageErrors, []);
    assert.deepEqual(host.reports.map((r) => r.step), ['serving', 'stopped']);
    assert.ok(bmc.requests.includes('POST /login'));
  });

  it("a failure on the host ends the guest's waits at once, naming the host's step", async () => {
    const { guest, host } = link('failing');
    const gone = guest.failure();
    guest.ask({ do: 'serve', file: 'browser/not-there.img' }, 'serving');
    await assert.rejects(guest.next('serving', 60_000), /the host's browser failed while serving browser\/not-there\.img: /);
    assert.match(await gone, /failed while serving browser\/not-there\.img/);
    assert.deepEqual(host.reports.map((r) => r.step), ['failed']);
  });
});
