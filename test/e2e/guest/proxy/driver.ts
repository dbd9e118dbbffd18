// Proxy mode end to end in the e2e VM, against the shipped daemon (systemd,
// the layer's unit, the system bus): the fake bmcweb (test/nbd/support/,
// Redfish + the /nbd/<id> websocket relay as bmcweb 7debb8928f behaves) in
// front of the daemon's proxy socket, its slot backend calling the daemon as
// bmcweb does (GetAll(MountPoint) for Socket, Proxy.Mount, Proxy.Unmount on
// close); on the far side of the websocket the shipped CLI serving a local
// file, or headless Chromium on the host serving a File through the browser
// module: the fake bmcweb listens on every address at bmcweb's port, which
// the host forwards to (runInVm forwardTcp).
// The guest's own USB host (dummy_hcd) sees the medium. One result line per
// scenario in $E2E_SHARE/results.jsonl.
//   node --import tsx test/e2e/guest/proxy/driver.ts [scenario...]
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as rt from '../../../../codegen/runtime/index.js';
import { makePki } from '../../../daemon/support/tls-server.js';
import { FakeBmcweb, type SlotBackend } from '../../../nbd/support/fake-bmcweb.js';
import { SystemdDaemon } from '../daemon/fixtures.js';
import { Medium } from '../daemon/media-client.js';
import { ensureReady } from '../daemon/scenarios.js';
import { BROWSER_GUEST_PORT, PROXY_PASSWORD, PROXY_USER } from './browser-link.js';
import { browserServesFile, cliReadOnly, cliReadWrite, type ProxyContext } from './scenarios.js';

const share = process.env.E2E_SHARE ?? '/tmp';
const results = join(share, 'results.jsonl');
const work = '/tmp/e2e-proxy';
const SLOT = 'Slot_0';
/** virtual-media-serve as installed from its npm package by the host (proxy.test.ts, installed-cli.ts). */
const INSTALLED_CLI = join(share, 'operator', 'project', 'node_modules', 'virtual-media-serve', 'bin', 'virtual-media-serve.js');

const ALL = ['proxy-cli-ro', 'proxy-cli-rw', 'proxy-browser'];

function record(line: Record<string, unknown>): void {
  appendFileSync(results, `${JSON.stringify(line)}\n`);
  process.stdout.write(`E2E-PROXY ${line.pass ? 'PASS' : 'FAIL'} ${String(line.scenario)}${line.pass ? '' : `: ${String(line.reason)}`}\n`);
}

/** bmcweb's D-Bus side of /nbd/<id>, on the guest's system bus. */
function daemonBackend(connection: rt.Connection): SlotBackend {
  return {
    async socketOf(slot) {
      const m = await Medium.open(connection, 'Proxy', slot);
      try {
        const socket = await m.mountPoint.get('Socket');
        // bmcweb binds in a directory that exists on the BMC; here nothing made it yet.
        mkdirSync(dirname(socket), { recursive: true });
        return socket;
      } finally {
        await m.close();
      }
    },
    async mount(slot) {
      const m = await Medium.open(connection, 'Proxy', slot);
      try {
        await m.mountProxy(); // the bool is ignored, as bmcweb does; an error closes the websocket
      } finally {
        await m.close();
      }
    },
    async unmount(slot) {
      const m = await Medium.open(connection, 'Proxy', slot);
      try {
        await m.unmount();
      } finally {
        await m.close();
      }
    },
  };
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
  const unknown = wanted.filter((s) => !ALL.includes(s));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(' ')}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const daemon = new SystemdDaemon();
  const t0 = Date.now();
  let connection: rt.Connection | undefined;
  let bmc: FakeBmcweb | undefined;
  let ctx: ProxyContext;
  try {
    if (!existsSync(INSTALLED_CLI)) throw new Error(`${INSTALLED_CLI} is missing: the host installs the package on the share (test/e2e/proxy.test.ts)`);
    connection = await rt.Connection.open({ bus: 'system' });
    await daemon.start(
      { InactivityTimeout: 1800, MountPoints: { [SLOT]: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: '/dev/nbd0', Timeout: 30, BlockSize: 512 } } },
      connection,
    );
    const pki = makePki(work);
    bmc = new FakeBmcweb(pki, work, [{ id: SLOT, endpoint: '/nbd/0' }], { user: PROXY_USER, password: PROXY_PASSWORD }, daemonBackend(connection));
    await bmc.start({ host: '0.0.0.0', port: BROWSER_GUEST_PORT });
    ctx = { connection, bmc, pki, work, slot: SLOT, nbd: 'nbd0', password: PROXY_PASSWORD, cliBin: INSTALLED_CLI, browserBundle: join(share, 'nbd-browser.js'), share };
    appendFileSync(results, `${JSON.stringify({ scenario: 'proxy-setup', pass: true, reason: '', durationMs: Date.now() - t0 })}\n`);
  } catch (e) {
    await daemon.stop().catch(() => undefined);
    await bmc?.stop().catch(() => undefined);
    for (const s of wanted) record({ scenario: s, pass: false, reason: `setup failed: ${(e as Error).message}; daemon log: ${await daemon.tail(6)}`, durationMs: 0 });
    return wanted.length;
  }

  const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
    'proxy-cli-ro': () => cliReadOnly(ctx),
    'proxy-cli-rw': () => cliReadWrite(ctx),
    'proxy-browser': () => browserServesFile(ctx),
  };
  let failed = 0;
  for (const name of ALL.filter((s) => wanted.includes(s))) {
    const t = Date.now();
    try {
      const measures = await scenarios[name]!();
      record({ scenario: name, pass: true, reason: '', durationMs: Date.now() - t, ...measures });
    } catch (e) {
      failed++;
      record({ scenario: name, pass: false, reason: `${(e as Error).message}; daemon log: ${await daemon.tail(6)}`, durationMs: Date.now() - t });
      const did = await ensureReady(ctx.connection, 'Proxy', SLOT).catch((err: Error) => `cleanup failed: ${err.message}`);
      if (did) process.stdout.write(`E2E-PROXY cleanup after ${name}: ${did}\n`);
    }
  }
  await bmc.stop();
  const code = await daemon.stop().catch((e: Error) => {
    record({ scenario: 'proxy-daemon-stop', pass: false, reason: e.message, durationMs: 0 });
    return -1;
  });
  if (code !== 0) failed++;
  await connection.close();
  return failed;
}

main().then(
  (failed) => process.exit(Math.min(failed, 100)),
  (e: unknown) => {
    process.stderr.write(`proxy driver crashed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(101);
  },
);
