// The daemon scenarios in the e2e VM, in one node process: builds the
// fixtures, has systemd start the shipped daemon from the layer's unit on the
// guest's system bus (real /sys, configfs, /dev), runs each scenario and
// appends one JSON line per scenario to $E2E_SHARE/results.jsonl
// ({scenario, pass, reason, durationMs, ...}).
//   node --import tsx test/e2e/guest/daemon/driver.ts [scenario...]
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as rt from '../../../../codegen/runtime/index.js';
import { DAEMON_VISIBLE_DIR, SystemdDaemon, httpsServers, isoImage, makeCa, randomImage } from './fixtures.js';
import { footprint } from './footprint.js';
import { policy } from './policy.js';
import { daemonReadRate, daemonStream, ensureReady, faults, mountLatency, httpsCredentials, httpsDisk, httpsIso, inactivity, proxy, type Context, type Measures } from './scenarios.js';
import { smb } from './smb.js';
import { LINKS, wanStream, type LinkProfile } from './wan.js';

const share = process.env.E2E_SHARE ?? '/tmp';
const results = join(share, 'results.jsonl');
const work = '/tmp/e2e-daemon';
const SHORT_INACTIVITY_S = 5;

const ALL = ['daemon-policy', 'daemon-https-disk', 'daemon-https-iso', 'daemon-https-credentials', 'daemon-proxy', 'daemon-faults', 'daemon-smb', 'daemon-inactivity'];
/** Only when named: bench/vm.ts runs them. */
const EXTRA = ['daemon-footprint', 'daemon-mount-latency', 'daemon-read-rate', 'daemon-stream-defaults', 'daemon-stream-tuned', 'daemon-wan-default', 'daemon-wan-plain', 'daemon-wan-cache'];
/** WAN bench variants (wan.ts): the bare curl plugin with the nbd driver's request sizes, and a capped nbdkit cache. */
const WAN_PLAIN = { nbdkit: { HttpsFilters: [] }, blockDevice: { ReadAheadKiB: 128, MaxRequestKiB: 128 } };
// 2 MiB requests and blocks, a 12 MiB cap: a 16 MiB image passes the cap.
const WAN_CACHE = { nbdkit: { CacheMiB: 12 }, blockDevice: { MaxRequestKiB: 2048 } };
/** The VM bench's best HTTPS filter set (bench/vm.ts, vm.https.*), with the daemon's default cache size. */
const TUNED_NBDKIT = {
  HttpsFilters: ['cache'],
  HttpsFilterParams: ['cache-min-block-size=4M', 'cache-on-read=true', 'cache-max-size=32M'],
};

/** Daemon settings per scenario: the daemon is restarted when they change. */
function settingsFor(scenario: string): Settings {
  if (scenario === 'daemon-inactivity') return { inactivity: SHORT_INACTIVITY_S };
  if (scenario === 'daemon-stream-tuned') return { inactivity: 1800, nbdkit: TUNED_NBDKIT };
  // The per-request HTTP timeout follows the nbd Timeout (E2E_BENCH_NBD_TIMEOUT): the same slow guest.
  const http = { HttpTimeout: Number(process.env.E2E_BENCH_NBD_TIMEOUT ?? 30) };
  if (scenario === 'daemon-wan-plain') return { inactivity: 1800, ...WAN_PLAIN, nbdkit: { ...WAN_PLAIN.nbdkit, ...http } };
  if (scenario === 'daemon-wan-cache') return { inactivity: 1800, ...WAN_CACHE, nbdkit: { ...WAN_CACHE.nbdkit, ...http } };
  if (scenario === 'daemon-wan-default') return { inactivity: 1800, nbdkit: http };
  return { inactivity: 1800 };
}

interface Settings {
  inactivity: number;
  nbdkit?: object;
  blockDevice?: object;
}

function record(line: Record<string, unknown>): void {
  appendFileSync(results, `${JSON.stringify(line)}\n`);
  process.stdout.write(`E2E-DAEMON ${line.pass ? 'PASS' : 'FAIL'} ${String(line.scenario)}${line.pass ? '' : `: ${String(line.reason)}`}\n`);
}

function config(ctx: { ca: string }, settings: Settings, mountPoints = 2): object {
  const extra = Object.fromEntries(
    Array.from({ length: Math.max(0, mountPoints - 2) }, (_, i) => [`Slot_${i + 2}`, { Mode: 1, NBDDevice: `/dev/nbd${i + 2}`, Timeout: 30, BlockSize: 512 }]),
  );
  return {
    // E2E_BENCH_NBDKIT: another nbdkit for the whole run (e.g. one built as the BMC image ships it, /opt/nbdkit-1.47/sbin/nbdkit).
    ...(process.env.E2E_BENCH_NBDKIT ? { Commands: { Nbdkit: process.env.E2E_BENCH_NBDKIT } } : {}),
    ...(settings.nbdkit ? { Nbdkit: settings.nbdkit } : {}),
    ...(settings.blockDevice ? { BlockDevice: settings.blockDevice } : {}),
    InactivityTimeout: settings.inactivity,
    MountPoints: {
      Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: '/dev/nbd0', Timeout: 30, BlockSize: 512 },
      // E2E_BENCH_NBD_TIMEOUT: a starved TCG VM moves HTTPS at a few Mbit/s, less than an 8 MiB request needs within 30 s.
      Slot_1: { Mode: 1, NBDDevice: '/dev/nbd1', Timeout: Number(process.env.E2E_BENCH_NBD_TIMEOUT ?? 30), BlockSize: 512 },
      ...extra,
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
  const daemon = new SystemdDaemon();
  let connection: rt.Connection | undefined;
  const failAll = (why: string): number => {
    for (const s of wanted) record({ scenario: s, pass: false, reason: why, durationMs: 0 });
    return wanted.length;
  };
  try {
    // The daemon reads the CA itself: not under /tmp (its PrivateTmp hides ours).
    const tls = await makeCa(join(DAEMON_VISIBLE_DIR, 'tls'));
    const www = join(work, 'www');
    const auth = { user: 'vmuser', password: 'S3cret pass:word' };
    const disk = randomImage(www, 'disk.img', 8);
    const isoText = `virtual media daemon e2e ${Date.now()}\n`;
    const iso = await isoImage(www, 'cd.iso', isoText);
    const servers = await httpsServers(www, tls, auth);
    connection = await rt.Connection.open({ bus: 'system' });
    ctx = { connection, daemon, work, disk, iso, isoText, servers, auth, legacy: { id: 'Slot_1', nbd: 'nbd1' }, proxy: { id: 'Slot_0', nbd: 'nbd0' } };
    const started = await daemon.start(config({ ca: tls.ca }, settingsFor('')), connection);
    appendFileSync(results, `${JSON.stringify({ scenario: 'daemon-setup', pass: true, reason: '', durationMs: Date.now() - setupStarted, daemonStartToNameMs: started.startToNameMs })}\n`);
  } catch (e) {
    await daemon.stop().catch(() => undefined);
    return failAll(`setup failed: ${(e as Error).message}`);
  }
  const ca = join(DAEMON_VISIBLE_DIR, 'tls', 'ca.pem');

  const wanMiB = Number(process.env.E2E_BENCH_WAN_MIB ?? 16);
  const wanRounds = Number(process.env.E2E_BENCH_ROUNDS ?? 3);
  // E2E_BENCH_WAN_LINKS="rtt40 wan100" picks link profiles.
  const wanLinks = (all: LinkProfile[]): LinkProfile[] => all.filter((l) => (process.env.E2E_BENCH_WAN_LINKS ?? l.name).split(' ').includes(l.name));
  const scenarios: Record<string, () => Promise<Measures>> = {
    'daemon-policy': () => policy(ctx),
    'daemon-footprint': () => footprint(daemon, ctx.connection, config({ ca }, settingsFor(''), 4), Number(process.env.E2E_BENCH_ROUNDS ?? 3)),
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
    // The bare plugin is round-trip bound (a few MiB per link profile suffice); the default gets twice the image so that TCP's slow start is not most of a read.
    'daemon-wan-plain': () => wanStream(ctx, 'plain', wanLinks([LINKS.rtt40!, LINKS.rtt40slow!]), wanMiB, Math.max(1, wanRounds - 1), undefined, process.env.E2E_BENCH_WAN_USB !== '0'),
    'daemon-wan-default': () => wanStream(ctx, 'default', wanLinks([LINKS.local!, LINKS.wan100!, LINKS.rtt40!, LINKS.wan100slow!, LINKS.rtt40slow!]), 2 * wanMiB, wanRounds, undefined, process.env.E2E_BENCH_WAN_USB !== '0'),
    'daemon-wan-cache': () => wanStream(ctx, 'cache', [LINKS.wan100!], wanMiB, 1, WAN_CACHE.nbdkit.CacheMiB, false),
  };
  let failed = 0;
  let currentSettings = JSON.stringify(settingsFor(''));
  for (const name of [...ALL, ...EXTRA].filter((s) => wanted.includes(s))) {
    const t = Date.now();
    try {
      const settings = JSON.stringify(settingsFor(name));
      if (settings !== currentSettings) {
        // Daemon-wide settings (inactivity timeout, nbdkit filters): a new config, a restart.
        await daemon.start(config({ ca }, settingsFor(name)), ctx.connection);
        currentSettings = settings;
      }
      // The footprint scenario restarts the daemon on a config of its own.
      if (name === 'daemon-footprint') currentSettings = 'footprint';
      const measures = await scenarios[name]!();
      record({ scenario: name, pass: true, reason: '', durationMs: Date.now() - t, ...measures });
    } catch (e) {
      failed++;
      record({ scenario: name, pass: false, reason: `${(e as Error).message}; daemon log: ${await daemon.tail(6)}`, durationMs: Date.now() - t });
      // Leave the mount points ready for the next scenario.
      for (const [kind, id] of [['Legacy', ctx.legacy.id], ['Proxy', ctx.proxy.id]] as const) {
        const did = await ensureReady(ctx.connection, kind, id).catch((err: Error) => `cleanup failed: ${err.message}`);
        if (did) process.stdout.write(`E2E-DAEMON cleanup after ${name}: ${kind}/${id}: ${did}\n`);
      }
    }
  }
  const code = await daemon.stop().catch((e: Error) => {
    record({ scenario: 'daemon-stop', pass: false, reason: e.message, durationMs: 0 });
    return -1;
  });
  if (code !== 0) {
    failed++;
    if (code !== -1) record({ scenario: 'daemon-stop', pass: false, reason: `the daemon ended with ${code === null ? 'a signal' : `status ${code}`} on systemctl stop`, durationMs: 0 });
  }
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
