// The daemon scenarios in the e2e VM, in one node process: builds the
// fixtures, starts the daemon on the guest's system bus (real /sys, configfs,
// /dev), runs each scenario and appends one JSON line per scenario to
// $E2E_SHARE/results.jsonl ({scenario, pass, reason, durationMs, ...}).
//   node --import tsx test/e2e/guest/daemon/driver.ts [scenario...]
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as rt from '../../../../codegen/runtime/index.js';
import { httpsServers, isoImage, makeCa, randomImage, startDaemon, type DaemonRun } from './fixtures.js';
import { daemonReadRate, daemonStream, ensureReady, faults, mountLatency, httpsCredentials, httpsDisk, httpsIso, inactivity, proxy, type Context, type Measures } from './scenarios.js';
import { smb } from './smb.js';

const share = process.env.E2E_SHARE ?? '/tmp';
const repo = process.env.E2E_REPO ?? process.cwd();
const results = join(share, 'results.jsonl');
const work = '/tmp/e2e-daemon';
const SHORT_INACTIVITY_S = 5;

const ALL = ['daemon-https-disk', 'daemon-https-iso', 'daemon-https-credentials', 'daemon-proxy', 'daemon-faults', 'daemon-smb', 'daemon-inactivity'];
/** Only when named: bench/vm.ts runs them. */
const EXTRA = ['daemon-mount-latency', 'daemon-read-rate', 'daemon-stream-defaults', 'daemon-stream-tuned'];
/** The VM bench's best HTTPS filter set (bench/vm.ts, vm.https.*), with the daemon's default cache size. */
const TUNED_NBDKIT = {
  HttpsFilters: ['cache'],
  HttpsFilterParams: ['cache-min-block-size=4M', 'cache-on-read=true', 'cache-max-size=32M'],
};

/** Daemon settings per scenario: the daemon is restarted when they change. */
function settingsFor(scenario: string): { inactivity: number; nbdkit?: object } {
  if (scenario === 'daemon-inactivity') return { inactivity: SHORT_INACTIVITY_S };
  if (scenario === 'daemon-stream-tuned') return { inactivity: 1800, nbdkit: TUNED_NBDKIT };
  return { inactivity: 1800 };
}

function record(line: Record<string, unknown>): void {
  appendFileSync(results, `${JSON.stringify(line)}\n`);
  process.stdout.write(`E2E-DAEMON ${line.pass ? 'PASS' : 'FAIL'} ${String(line.scenario)}${line.pass ? '' : `: ${String(line.reason)}`}\n`);
}

function config(ctx: { ca: string }, settings: { inactivity: number; nbdkit?: object }): object {
  return {
    ...(settings.nbdkit ? { Nbdkit: settings.nbdkit } : {}),
    InactivityTimeout: settings.inactivity,
    MountPoints: {
      Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: '/dev/nbd0', Timeout: 30, BlockSize: 512 },
      Slot_1: { Mode: 1, NBDDevice: '/dev/nbd1', Timeout: 30, BlockSize: 512 },
    },
    TlsCaFile: ctx.ca,
  };
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
  const unknown = wanted.filter((s) => ![...ALL, ...EXTRA].includes(s));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(' ')}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const setupStarted = Date.now();
  let ctx: Context;
  let daemon: DaemonRun | undefined;
  let connection: rt.Connection | undefined;
  const failAll = (why: string): number => {
    for (const s of wanted) record({ scenario: s, pass: false, reason: why, durationMs: 0 });
    return wanted.length;
  };
  try {
    const tls = await makeCa(join(work, 'tls'));
    const www = join(work, 'www');
    const auth = { user: 'vmuser', password: 'S3cret pass:word' };
    const disk = randomImage(www, 'disk.img', 8);
    const isoText = `virtual media daemon e2e ${Date.now()}\n`;
    const iso = await isoImage(www, 'cd.iso', isoText);
    const servers = await httpsServers(www, tls, auth);
    connection = await rt.Connection.open({ bus: 'system' });
    ctx = { connection, work, disk, iso, isoText, servers, auth, legacy: { id: 'Slot_1', nbd: 'nbd1' }, proxy: { id: 'Slot_0', nbd: 'nbd0' } };
    const started = await startDaemon(repo, join(work, 'config.json'), config({ ca: tls.ca }, settingsFor('')), connection);
    daemon = started.daemon;
    appendFileSync(results, `${JSON.stringify({ scenario: 'daemon-setup', pass: true, reason: '', durationMs: Date.now() - setupStarted, daemonReadyMs: started.readyMs })}\n`);
  } catch (e) {
    await daemon?.stop().catch(() => undefined);
    return failAll(`setup failed: ${(e as Error).message}`);
  }

  const scenarios: Record<string, () => Promise<Measures>> = {
    'daemon-https-disk': () => httpsDisk(ctx),
    'daemon-https-iso': () => httpsIso(ctx),
    'daemon-https-credentials': () => httpsCredentials(ctx),
    'daemon-proxy': () => proxy(ctx),
    'daemon-faults': () => faults(ctx),
    'daemon-smb': () => smb(ctx, work),
    'daemon-inactivity': () => inactivity(ctx, SHORT_INACTIVITY_S),
    'daemon-mount-latency': () => mountLatency(ctx, Number(process.env.E2E_BENCH_ROUNDS ?? 3)),
    'daemon-read-rate': () => daemonReadRate(ctx, Number(process.env.E2E_BENCH_READ_MIB ?? 64), Number(process.env.E2E_BENCH_ROUNDS ?? 3)),
    'daemon-stream-defaults': () => daemonStream(ctx, Number(process.env.E2E_BENCH_DELAY_MS ?? 20)),
    'daemon-stream-tuned': () => daemonStream(ctx, Number(process.env.E2E_BENCH_DELAY_MS ?? 20)),
  };
  let failed = 0;
  let currentSettings = JSON.stringify(settingsFor(''));
  for (const name of [...ALL, ...EXTRA].filter((s) => wanted.includes(s))) {
    const t = Date.now();
    try {
      const settings = JSON.stringify(settingsFor(name));
      if (settings !== currentSettings) {
        // Daemon-wide settings (inactivity timeout, nbdkit filters): restart it.
        await daemon!.stop();
        daemon = (await startDaemon(repo, join(work, `config-${name}.json`), config({ ca: join(work, 'tls', 'ca.pem') }, settingsFor(name)), ctx.connection)).daemon;
        currentSettings = settings;
      }
      const measures = await scenarios[name]!();
      record({ scenario: name, pass: true, reason: '', durationMs: Date.now() - t, ...measures });
    } catch (e) {
      failed++;
      record({ scenario: name, pass: false, reason: `${(e as Error).message}; daemon log: ${daemon?.tail(6) ?? '-'}`, durationMs: Date.now() - t });
      // Leave the mount points ready for the next scenario.
      for (const [kind, id] of [['Legacy', ctx.legacy.id], ['Proxy', ctx.proxy.id]] as const) {
        const did = await ensureReady(ctx.connection, kind, id).catch((err: Error) => `cleanup failed: ${err.message}`);
        if (did) process.stdout.write(`E2E-DAEMON cleanup after ${name}: ${kind}/${id}: ${did}\n`);
      }
    }
  }
  const code = await daemon!.stop().catch((e: Error) => {
    record({ scenario: 'daemon-stop', pass: false, reason: e.message, durationMs: 0 });
    return -1;
  });
  if (code !== 0) failed++;
  await ctx.servers.open.close();
  await ctx.servers.auth.close();
  await connection?.close();
  return failed;
}

main().then(
  (failed) => process.exit(Math.min(failed, 100)),
  (e: unknown) => {
    process.stderr.write(`driver crashed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(101);
  },
);
