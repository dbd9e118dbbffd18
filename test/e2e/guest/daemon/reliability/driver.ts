// The reliability scenarios in the e2e VM (guest/reliability-scenarios.sh):
// the shipped daemon under systemd with four mount points on four UDCs,
// driven through the generated clients only, under load (four media at once,
// a soak with a leak ledger), a flaky network, and crashes. One JSON line per
// scenario in $E2E_SHARE/results.jsonl, as guest/daemon/driver.ts writes them.
//   node --import tsx test/e2e/guest/daemon/reliability/driver.ts [scenario...]
// E2E_SOAK_CYCLES (default 8), E2E_SOAK_RSS_ALLOWANCE_KIB and
// E2E_SOAK_HEAP_ALLOWANCE_KIB size the soak.
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as rt from '../../../../../codegen/runtime/index.js';
import { startStaticServer } from '../../https-static-server.js';
import { DAEMON_VISIBLE_DIR, SystemdDaemon, UNIT, isoImage, makeCa, randomImage } from '../fixtures.js';
import { ensureReady, type Measures } from '../scenarios.js';
import { run, sleep, waitFor } from '../kernel-view.js';
import { ROOT, SERVICE } from '../media-client.js';
import { startSamba } from '../smb.js';
import { cifsServes } from './cifs-ready.js';
import { concurrency } from './concurrency.js';
import { crashWhileBackendHangs } from './crash-hung-backend.js';
import { childKill, daemonCrash } from './crashes.js';
import { networkComesBack, networkDies } from './flaky-network.js';
import { ejectWhileBackendHangs } from './hung-backend.js';
import { lo } from './host-side.js';
import { LoopLagWatch } from './loop-lag.js';
import { soak } from './soak.js';
import { SLOTS, SLOW_DELAY_MS, daemonConfig, shareCopy, type World } from './world.js';

const share = process.env.E2E_SHARE ?? '/tmp';
const results = join(share, 'results.jsonl');
const work = '/tmp/e2e-reliability';

export const RELIABILITY_SCENARIOS = [
  'reliability-concurrency',
  'reliability-soak',
  'reliability-network-back',
  'reliability-network-dead',
  'reliability-crash-inserting',
  'reliability-crash-reading',
  'reliability-crash-ejecting',
  'reliability-kill-nbdkit',
  'reliability-kill-nbd-client',
  'reliability-kill-smbd',
  'reliability-eject-hung-backend',
  'reliability-crash-hung-backend',
] as const;

/**
 * One sealed CIFS mount by hand before the scenarios: the kernel loads the
 * crypto modules SMB 3.1.1 encryption needs (gcm, ccm, cmac... from the 9p
 * root) on the first mount, which under TCG and a loaded host can take longer
 * than the daemon's 30 s per mount.cifs attempt, and four insertions at once
 * then fail with EINTR from the kernel. A BMC's kernel has them built in.
 */
async function warmUpCifs(dir: string): Promise<void> {
  // Only a warm-up: if it never works, the SMB scenarios say what fails.
  await cifsServes(dir, 3);
}

function record(line: Record<string, unknown>): void {
  appendFileSync(results, `${JSON.stringify(line)}\n`);
  process.stdout.write(`E2E-RELIABILITY ${line.pass ? 'PASS' : 'FAIL'} ${String(line.scenario)}${line.pass ? '' : `: ${String(line.reason)}`}\n`);
}

/**
 * E2E_SOAK_DAEMON_ENV ("NAME=value ...", bench/soak.ts's SOAK_DAEMON_ENV):
 * extra environment for the daemon through a runtime drop-in, for comparing
 * memory settings (e.g. MALLOC_ARENA_MAX) against the unit as shipped.
 */
async function daemonEnvironmentDropIn(spec: string | undefined): Promise<void> {
  if (!spec?.trim()) return;
  const pairs = spec.trim().split(/\s+/);
  for (const p of pairs) if (!/^[A-Za-z_][A-Za-z0-9_]*=[^\s"\\]*$/.test(p)) throw new Error(`E2E_SOAK_DAEMON_ENV: "${p}" is not NAME=value`);
  const dir = `/run/systemd/system/${UNIT}.d`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'soak-environment.conf'), `[Service]\n${pairs.map((p) => `Environment="${p}"`).join('\n')}\n`);
  await run('systemctl', ['daemon-reload']);
  process.stdout.write(`E2E-SOAK daemon environment: ${pairs.join(' ')}\n`);
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).length ? process.argv.slice(2) : [...RELIABILITY_SCENARIOS];
  const unknown = wanted.filter((s) => !(RELIABILITY_SCENARIOS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(' ')}`);
  const cycles = Number(process.env.E2E_SOAK_CYCLES ?? 8);
  const rssAllowanceKiB = Number(process.env.E2E_SOAK_RSS_ALLOWANCE_KIB ?? 8192);
  const heapAllowanceKiB = Number(process.env.E2E_SOAK_HEAP_ALLOWANCE_KIB ?? 2048);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const daemon = new SystemdDaemon();
  let w: World;
  const setupStarted = Date.now();
  try {
    await daemonEnvironmentDropIn(process.env.E2E_SOAK_DAEMON_ENV);
    const tls = await makeCa(join(DAEMON_VISIBLE_DIR, 'tls'));
    const www = join(work, 'www');
    const shareDir = join(work, 'smb-share');
    const disk = randomImage(www, 'disk.img', 8);
    const small = randomImage(www, 'small.img', 2);
    const iso = await isoImage(www, 'cd.iso', `reliability ${Date.now()}\n`);
    const servers = {
      open: await startStaticServer({ root: www, certFile: tls.cert, keyFile: tls.key }),
      slow: await startStaticServer({ root: www, certFile: tls.cert, keyFile: tls.key, delayMs: SLOW_DELAY_MS }),
    };
    const smbShare = { dir: shareDir, rw: shareCopy(shareDir, disk, 'rw.img'), rwSmall: shareCopy(shareDir, small, 'rw-small.img'), small: shareCopy(shareDir, small, 'small.img') };
    const smbd = { process: await startSamba(shareDir) };
    await warmUpCifs(work);
    const connection = await rt.Connection.open({ bus: 'system' });
    w = { connection, daemon, work, disk, small, iso, share: smbShare, servers, smbd, slots: SLOTS };
    const started = await daemon.start(daemonConfig(tls.ca), connection);
    record({ scenario: 'reliability-setup', pass: true, reason: '', durationMs: Date.now() - setupStarted, daemonStartToNameMs: started.startToNameMs });
  } catch (e) {
    await daemon.stop().catch(() => undefined);
    for (const s of wanted) record({ scenario: s, pass: false, reason: `setup failed: ${(e as Error).message}`, durationMs: 0 });
    return wanted.length;
  }

  const scenarios: Record<(typeof RELIABILITY_SCENARIOS)[number], () => Promise<Measures>> = {
    'reliability-concurrency': () => concurrency(w),
    'reliability-soak': () => soak(w, { cycles, rssAllowanceKiB, heapAllowanceKiB }),
    'reliability-network-back': () => networkComesBack(w),
    'reliability-network-dead': () => networkDies(w),
    'reliability-crash-inserting': () => daemonCrash(w, 'inserting'),
    'reliability-crash-reading': () => daemonCrash(w, 'reading'),
    'reliability-crash-ejecting': () => daemonCrash(w, 'ejecting'),
    'reliability-kill-nbdkit': () => childKill(w, 'nbdkit'),
    'reliability-kill-nbd-client': () => childKill(w, 'nbd-client'),
    'reliability-kill-smbd': () => childKill(w, 'smbd'),
    'reliability-eject-hung-backend': () => ejectWhileBackendHangs(w),
    'reliability-crash-hung-backend': () => crashWhileBackendHangs(w),
  };
  let failed = 0;
  const lag = new LoopLagWatch();
  lag.start();
  for (const name of RELIABILITY_SCENARIOS.filter((s) => wanted.includes(s))) {
    const t = Date.now();
    process.stdout.write(`E2E-STEP reliability: ${name}\n`);
    try {
      const measures = await scenarios[name]();
      record({ scenario: name, pass: true, reason: '', durationMs: Date.now() - t, ...measures });
    } catch (e) {
      failed++;
      const http = Object.entries(w.servers).map(([k, v]) => `${k} ${JSON.stringify(Object.fromEntries(v.statuses))}`).join(', ');
      record({ scenario: name, pass: false, reason: `${(e as Error).message}; HTTP statuses so far: ${http}; this driver's event-loop stalls over 3 s during the scenario: ${lag.since(t)}; daemon log: ${await daemon.tail(8)}`, durationMs: Date.now() - t });
      await lo.clear();
      // A crash scenario may have failed while systemd was still restarting the daemon.
      await waitFor('the daemon to serve again', 120_000, () => rt.getManagedObjects(w.connection, SERVICE, ROOT, { timeoutMs: 5000 }).then((o) => o.size > 0, () => false), 1000).catch(() => undefined);
      for (const [kind, slot] of [['Proxy', SLOTS.proxy], ['Legacy', SLOTS.cd], ['Legacy', SLOTS.disk], ['Legacy', SLOTS.smb]] as const) {
        const did = await ensureReady(w.connection, kind, slot.id).catch((err: Error) => `cleanup failed: ${err.message}`);
        if (did) process.stdout.write(`E2E-RELIABILITY cleanup after ${name}: ${slot.id}: ${did}\n`);
      }
    }
  }
  lag.stop();
  const code = await daemon.stop().catch((e: Error) => {
    record({ scenario: 'reliability-stop', pass: false, reason: e.message, durationMs: 0 });
    return -1;
  });
  if (code !== 0) {
    failed++;
    if (code !== -1) record({ scenario: 'reliability-stop', pass: false, reason: `the daemon ended with ${code === null ? 'a signal' : `status ${code}`} on systemctl stop`, durationMs: 0 });
  }
  w.smbd.process?.kill('SIGTERM');
  await w.servers.open.close();
  await w.servers.slow.close();
  await w.connection.close();
  return failed;
}

main().then(
  (failed) => process.exit(Math.min(failed, 100)),
  (e: unknown) => {
    process.stderr.write(`reliability driver crashed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(101);
  },
);
