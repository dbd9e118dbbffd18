// Proxy mode end to end in the e2e VM, against the shipped daemon under
// systemd: a websocket relay behaving as bmcweb's /nbd/<id> (the fake bmcweb
// of test/nbd/, tests only) in front of the daemon's proxy socket; on its
// far side the CLI as shipped (the npm package, packed and installed on the
// host into a fresh project on the share: test/nbd/support/installed-cli.ts)
// serving a local file, then headless Chromium serving a File through the browser
// module. The guest's USB host (dummy_hcd) must read the served bytes; --rw
// writes must land in the local file; Ctrl-C / session.stop() must eject.
// Relay and CLI run inside the VM (the relay needs the daemon's unix socket;
// guest/proxy/driver.ts). The browser runs here on the host, as an
// operator's browser runs on another machine than the BMC: it reaches the
// guest's fake bmcweb through a forwarded port and acts when the guest asks
// (host/proxy-browser.ts). One boot runs all three.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { bundleBrowserModule, launchChromium } from '../nbd/support/browser-page.js';
import { installCliPackage } from '../nbd/support/installed-cli.js';
import { requireCommand } from '../support/require-command.js';
import { BROWSER_GUEST_PORT } from './guest/proxy/browser-link.js';
import { HostBrowser } from './host/proxy-browser.js';
import { verboseConsole } from './vm/guest-scripts.js';
import { runInVm, type GuestResult, type RunInVmResult } from './vm/run-in-vm.js';
import { prepareShippedBoot } from './vm/shipped-daemon.js';

describe('e2e: proxy mode in a qemu VM (the CLI and a browser through a bmcweb-like relay to the shipped daemon)', function () {
  this.timeout(1_800_000);
  let run: RunInVmResult;
  let installDir: string | undefined;
  let share: string | undefined;
  let browser: Browser | undefined;
  let hostBrowser: HostBrowser | undefined;
  after(async () => {
    await hostBrowser?.settle();
    await browser?.close().catch(() => undefined);
    for (const dir of [installDir, share]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  before(async function () {
    this.timeout(1_800_000);
    requireCommand('qemu-system-x86_64', 'qemu-system-x86');
    requireCommand('nbd-client', 'nbd-client');
    requireCommand('openssl', 'openssl');
    requireCommand('dbus-daemon', 'dbus');
    const chromium = requireCommand('chromium', 'chromium');
    const shipped = await prepareShippedBoot('e2e-proxy-');
    installDir = shipped.installDir;
    // The operator's side: virtual-media-serve installed from its npm package, on the share.
    share = mkdtempSync(join(tmpdir(), 'e2e-proxy-share-'));
    await installCliPackage(join(share, 'operator'));
    // The web UI's side: the browser module bundled here (esbuild), as a web UI would ship it.
    writeFileSync(join(share, 'nbd-browser.js'), await bundleBrowserModule());
    // The operator's browser, on this side of the forwarded port; launched before the boot so a broken Chromium fails fast.
    browser = await launchChromium(chromium, 120_000);
    const operator = (hostBrowser = new HostBrowser(browser, share));
    const show = verboseConsole('proxy');
    run = await runInVm({
      share,
      installRoot: shipped.root,
      script: 'exec bash "$E2E_GUEST_DIR/proxy-scenarios.sh"\n',
      timeoutMs: 1_700_000,
      memoryMiB: 1536,
      replaceModules: { usb_f_mass_storage: shipped.ko },
      forwardTcp: [{ guestPort: BROWSER_GUEST_PORT }],
      onForwarded: ([bmcweb]) => operator.forwardedTo(bmcweb!.hostPort),
      onLine: (line) => {
        show?.(line);
        operator.onLine(line);
      },
      // While developing: E2E_PROXY_SCENARIOS='proxy-browser' runs only those (the others then fail as missing).
      ...(process.env.E2E_PROXY_SCENARIOS ? { env: { E2E_PROXY_SCENARIOS: process.env.E2E_PROXY_SCENARIOS } } : {}),
    });
  });

  const passed = (name: string): GuestResult => {
    const found = run.results.find((r) => r.scenario === name);
    assert.ok(found, `no result for ${name}; results: ${JSON.stringify(run.results.map((r) => r.scenario))}\nconsole tail:\n${run.console.split('\n').slice(-40).join('\n')}`);
    assert.equal(found.pass, true, `${name} failed: ${found.reason}`);
    return found;
  };

  it('the CLI serves a local image through the relay: the USB disk has its size and sha256; Ctrl-C ejects and deletes the session', function () {
    const r = passed('proxy-cli-ro');
    assert.match(String(r.cliTotals), /total: served/);
  });

  it('--rw: a direct write to the USB disk lands in the local file', function () {
    passed('proxy-cli-rw');
  });

  it('headless Chromium on the host, through a forwarded port, serves a File through the browser module: the same USB check; session.stop() ejects', function () {
    const result = passed('proxy-browser');
    assert.deepEqual(hostBrowser!.reports.filter((r) => r.step === 'failed'), [], "the host's browser failed");
    assert.deepEqual(hostBrowser!.reports.map((r) => r.step), ['serving', 'stopped']);
    assert.equal(result.end, 'local');
  });

  it('prints the timings', function () {
    const line = Object.fromEntries(run.results.map((r) => [r.scenario, { ...r, scenario: undefined, pass: undefined, reason: undefined }]));
    process.stdout.write(`      proxy e2e: ${JSON.stringify(line)}\n`);
    assert.equal(run.exitCode, 0, `guest exit code ${run.exitCode} (failed scenarios)`);
  });
});
