// VM bench: the real data path in one qemu boot of Debian's kernel (see
// test/e2e/README.md), measured side by side:
//  (a) USB-disk read rate of the hand-built path vs the raw /dev/nbdN under it;
//  (b) by-hand shell path "mount" -> USB disk visible, the baseline for the
//      daemon's Mount -> Completion (target daemon <= 1.2x), measured in the
//      same boot through the generated client (guest/daemon/driver.ts);
//  (c) HTTPS streaming with added latency: nbdkit curl plain vs with filters
//      (target best >= 2x plain). The best filter set is named in the result;
//  (d) the shipped daemon started by systemd from the layer's unit: fork to
//      bus name vs a bare `node -e` start (target <= 1.5x), and its RSS
//      serving 4 mount points.
// The daemon parts run what the image ships (release tarball, recipe install,
// systemd as PID 1: test/e2e/vm/shipped-daemon.ts).
// Run alone: npx tsx bench/vm.ts
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { prepareShippedBoot } from '../test/e2e/vm/shipped-daemon.js';
import { verboseConsole } from '../test/e2e/vm/guest-scripts.js';
import { runInVm, type GuestResult, type RunInVmResult } from '../test/e2e/vm/run-in-vm.js';
import type { Row } from './row.js';

/** bench/row.ts's Row plus a free-text note (what the number means, the winning variant). */
export type BenchResult = Row & { note?: string };

const SCENARIOS = ['bench-read', 'bench-mount', 'bench-https'];
const WAN_SCENARIOS = 'daemon-wan-default daemon-wan-plain daemon-wan-cache';
/** Shell scenarios, then the daemon's Mount latency in the same boot. Exit code = failures. */
const SCRIPT = `E2E_SCENARIOS='${SCENARIOS.join(' ')}' bash "$E2E_GUEST_DIR/run-all.sh"; shell=$?
E2E_DAEMON_SCENARIOS='daemon-footprint daemon-mount-latency daemon-read-rate daemon-stream-defaults daemon-stream-tuned ${WAN_SCENARIOS}' bash "$E2E_GUEST_DIR/daemon-scenarios.sh"; daemon=$?
exit $((shell + daemon))
`;
/** BENCH_VM_PARTS=wan: only the WAN streaming rows (one boot, the daemon's scenarios only). */
const WAN_ONLY_SCRIPT = `E2E_DAEMON_SCENARIOS='${process.env.BENCH_VM_WAN_SCENARIOS ?? WAN_SCENARIOS}' bash "$E2E_GUEST_DIR/daemon-scenarios.sh"
`;
export const WAN_LINK_FRACTION_TARGET = 0.8;
export const WAN_VS_PLAIN_TARGET = 4;
export const WAN_RANDOM_RTT_TARGET = 1.5;
/** Daemon Mount -> Completion over the script's mount -> USB disk visible. */
export /** USB read rate of a daemon-made mount against the by-hand path with default settings. */
const DAEMON_READ_TARGET = 1.0;
const DAEMON_LATENCY_TARGET = 1.2;
export const DAEMON_START_TARGET = 1.5;
export const HTTPS_SPEEDUP_TARGET = 2;
/** HTTPS variants the guest measures (name as the guest reports it, with + -> _). */
export const HTTPS_VARIANTS: Record<string, string> = {
  plain: 'nbdkit curl',
  readahead: 'nbdkit --filter=readahead curl',
  cache4M: 'nbdkit --filter=cache curl cache-min-block-size=4M cache-on-read=true cache-max-size=64M',
  readahead_cache: 'nbdkit --filter=readahead --filter=cache curl cache-on-read=true cache-max-size=64M',
  readahead_cache4M:
    'nbdkit --filter=readahead --filter=cache curl cache-min-block-size=4M cache-on-read=true cache-max-size=64M',
  'cache4M-max16M': 'nbdkit --filter=cache curl cache-min-block-size=4M cache-on-read=true cache-max-size=16M',
};

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

function num(r: GuestResult, key: string): number {
  const v = Number(r[key]);
  if (!Number.isFinite(v)) throw new Error(`scenario ${r.scenario}: no number for ${key} (${JSON.stringify(r)})`);
  return v;
}

/** Converts the guest's result lines into bench results (exported for tests). */
export function benchResults(results: GuestResult[]): BenchResult[] {
  const get = (name: string): GuestResult => {
    const r = results.find((x) => x.scenario === name);
    if (!r) throw new Error(`VM bench: no result for ${name}`);
    if (r.pass !== true) throw new Error(`VM bench: ${name} failed: ${r.reason}`);
    return r;
  };
  const out: BenchResult[] = [];

  const read = get('bench-read');
  const usb = num(read, 'usbReadMiBps');
  const nbd = num(read, 'nbdReadMiBps');
  out.push(
    { name: 'vm.read.nbd_raw', value: nbd, unit: 'MiB/s', note: `/dev/nbdN, O_DIRECT 1 MiB reads, ${num(read, 'imageMiB')} MiB, file plugin` },
    {
      name: 'vm.read.usb_disk',
      value: usb,
      unit: 'MiB/s',
      baseline: nbd,
      ratio: round(usb / nbd),
      note: 'USB disk through gadget + dummy_hcd over the same /dev/nbdN (ratio = usb / raw nbd)',
    },
  );

  const daemonRead = results.find((x) => x.scenario === 'daemon-read-rate');
  if (daemonRead) {
    if (daemonRead.pass !== true) throw new Error(`VM bench: daemon-read-rate failed: ${daemonRead.reason}`);
    const daemonUsb = num(daemonRead, 'usbReadMiBps');
    const daemonNbd = num(daemonRead, 'nbdReadMiBps');
    out.push(
      { name: 'vm.read.daemon_nbd_raw', value: daemonNbd, unit: 'MiB/s', note: "raw /dev/nbdN under the daemon's mount (its nbd-client settings)" },
      {
        name: 'vm.read.daemon_usb_disk',
        value: daemonUsb,
        unit: 'MiB/s',
        baseline: usb,
        ratio: round(daemonUsb / usb),
        target: '>= 1.0x',
        pass: daemonUsb / usb >= DAEMON_READ_TARGET,
        note: `daemon-made mount (proxy mode, same nbdkit file export) vs the by-hand path; ${round(daemonUsb / daemonNbd)}x its raw nbd`,
      },
    );
  }

  const mount = get('bench-mount');
  for (const kind of ['file', 'https']) {
    out.push(
      {
        name: `vm.script_mount.${kind}.usb_disk_visible`,
        value: num(mount, `${kind}UsbDiskVisibleMs`),
        unit: 'ms',
        note: `by-hand shell path, ${kind} image: nbdkit start -> USB disk with size (baseline for daemon Mount -> Completion, target <= 1.2x)`,
      },
      { name: `vm.script_mount.${kind}.gadget_bound`, value: num(mount, `${kind}GadgetBoundMs`), unit: 'ms' },
      { name: `vm.script_mount.${kind}.nbd_ready`, value: num(mount, `${kind}NbdReadyMs`), unit: 'ms' },
    );
  }

  const daemon = results.find((x) => x.scenario === 'daemon-mount-latency');
  if (daemon) {
    if (daemon.pass !== true) throw new Error(`VM bench: daemon-mount-latency failed: ${daemon.reason}`);
    const script = num(mount, 'httpsUsbDiskVisibleMs');
    const completion = num(daemon, 'mountToCompletionMs');
    const visible = num(daemon, 'mountToUsbDiskMs');
    out.push(
      {
        name: 'vm.daemon_mount.https.completion',
        value: completion,
        unit: 'ms',
        baseline: script,
        ratio: round(completion / script),
        target: `<= ${DAEMON_LATENCY_TARGET}x`,
        pass: completion / script <= DAEMON_LATENCY_TARGET,
        note: 'daemon Legacy.Mount -> Completion(0) (generated client, system bus) vs by-hand script nbdkit start -> USB disk visible',
      },
      {
        name: 'vm.daemon_mount.https.usb_disk_visible',
        value: visible,
        unit: 'ms',
        baseline: script,
        ratio: round(visible / script),
        target: `<= ${DAEMON_LATENCY_TARGET}x`,
        pass: visible / script <= DAEMON_LATENCY_TARGET,
        note: 'like for like: daemon Legacy.Mount -> USB disk visible vs the by-hand script',
      },
    );
  }

  const footprint = results.find((x) => x.scenario === 'daemon-footprint');
  if (footprint) {
    if (footprint.pass !== true) throw new Error(`VM bench: daemon-footprint failed: ${footprint.reason}`);
    const toName = num(footprint, 'startToNameMs');
    const bare = num(footprint, 'bareNodeStartMs');
    out.push(
      { name: 'vm.daemon_start.bare_node_e', value: round(bare, 0), unit: 'ms', note: '`/usr/bin/node -e` spawn -> first output, in the VM (median)' },
      {
        name: 'vm.daemon_start.systemd_to_name',
        value: round(toName, 0),
        unit: 'ms',
        baseline: round(bare, 0),
        ratio: round(toName / bare),
        target: `<= ${DAEMON_START_TARGET}x`,
        pass: toName / bare <= DAEMON_START_TARGET,
        note: "installed bundle started by systemd from the layer's unit: fork -> owns xyz.openbmc_project.VirtualMedia (systemd's ExecMainStart -> ActiveEnter, sandbox set-up included), 4 mount points, median",
      },
      { name: 'vm.daemon_rss.4_mount_points', value: round(num(footprint, 'rssKiB4MountPoints') / 1024, 1), unit: 'MiB', note: 'VmRSS of the daemon under systemd, 3 s after it owned its name, 4 mount points' },
    );
  }

  const streamDefaults = results.find((x) => x.scenario === 'daemon-stream-defaults');
  const streamTuned = results.find((x) => x.scenario === 'daemon-stream-tuned');
  if (streamDefaults && streamTuned) {
    for (const r of [streamDefaults, streamTuned]) if (r.pass !== true) throw new Error(`VM bench: ${r.scenario} failed: ${r.reason}`);
    const base = num(streamDefaults, 'readMiBps');
    const tuned = num(streamTuned, 'readMiBps');
    const what = `${num(streamDefaults, 'imageMiB')} MiB HTTPS image read once through the USB disk, netem ${num(streamDefaults, 'delayMs')} ms on lo, daemon Legacy.Mount`;
    out.push(
      { name: 'vm.daemon_https.default_filters', value: base, unit: 'MiB/s', note: `${what}; the daemon's default Nbdkit settings` },
      {
        name: 'vm.daemon_https.tuned_filters',
        value: tuned,
        unit: 'MiB/s',
        baseline: base,
        ratio: round(tuned / base),
        note: `${what}; Nbdkit.HttpsFilters ["cache"], HttpsFilterParams cache-min-block-size=4M cache-on-read=true cache-max-size=32M`,
      },
    );
  }

  const https = get('bench-https');
  const plain = num(https, 'plainMiBps');
  const measured = Object.keys(HTTPS_VARIANTS).filter((k) => Number.isFinite(Number(https[`${k}MiBps`])));
  let best = 'plain';
  for (const k of measured) {
    const rate = num(https, `${k}MiBps`);
    const requests = Number(https[`${k}HttpRequests`]);
    out.push({
      name: `vm.https.${k}`,
      value: rate,
      unit: 'MiB/s',
      ...(k === 'plain' ? {} : { baseline: plain, ratio: round(rate / plain) }),
      note: `${HTTPS_VARIANTS[k]}; ${requests} HTTP requests for ${num(https, 'imageMiB')} MiB; latency via ${String(https.latency)}`,
    });
    if (rate > num(https, `${best}MiBps`)) best = k;
  }
  const bestRate = num(https, `${best}MiBps`);
  out.push({
    name: 'vm.https.best_vs_plain',
    value: round(bestRate / plain),
    unit: 'x',
    baseline: plain,
    ratio: round(bestRate / plain),
    target: `>= ${HTTPS_SPEEDUP_TARGET}x`,
    pass: bestRate / plain >= HTTPS_SPEEDUP_TARGET,
    note: `best: ${best} = ${HTTPS_VARIANTS[best]}`,
  });
  return out;
}

/** MiB/s of a netem rate such as `100mbit` or `6250kbit`. */
function linkMiBps(rate: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)bit$/.exec(rate);
  if (!m) return undefined;
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2] as '' | 'k' | 'm' | 'g'];
  return (Number(m[1]) * scale) / 8 / 2 ** 20;
}

/**
 * The WAN streaming rows (test/e2e/guest/daemon/wan.ts): the daemon's
 * default on /dev/nbdN and the USB disk as a fraction of the link rate
 * (netem 50 ms + 100 Mbit/s) and against the bare curl plugin (20 ms, no
 * rate), random 4 KiB reads in round trips, and a capped cache's peak.
 * Medians of the rounds; the rounds are in the note (the spread).
 *
 * Each link also runs in slow motion (wan100slow, rtt40slow: the same
 * bandwidth-delay product and round trips per read at a sixteenth of the
 * rate, see LINKS in wan.ts). A row carries its target only where this VM's
 * CPU can reach what the target asks: on TCG the real-speed links are bound
 * by the emulated CPU (the "local" row, no netem, is that ceiling), and
 * their rows are then information with the ceiling in the note.
 */
export function wanResults(results: GuestResult[]): BenchResult[] {
  const find = (name: string): GuestResult | undefined => {
    const r = results.find((x) => x.scenario === name);
    if (r && r.pass !== true) throw new Error(`VM bench: ${name} failed: ${r.reason}`);
    return r;
  };
  const out: BenchResult[] = [];
  const def = find('daemon-wan-default');
  if (!def) return out;
  const plain = find('daemon-wan-plain');
  const cache = find('daemon-wan-cache');
  const spread = (r: GuestResult, key: string): string => `rounds ${JSON.stringify(r[key])}`;
  const link = (r: GuestResult, l: string): string =>
    `netem ${num(r, `${l}DelayMs`)} ms (RTT ${num(r, `${l}RttMs`)} ms), rate ${String(r[`${l}Rate`])}, ${num(r, 'imageMiB')} MiB image, read_ahead_kb ${num(r, `${l}ReadAheadKb`)}, max_sectors_kb ${num(r, `${l}MaxSectorsKb`)}${r.nbdkit ? `, ${String(r.nbdkit)}` : ''}`;
  const where = [['nbd', 'Nbd', 'buffered /dev/nbdN'], ['usb_disk', 'Usb', 'O_DIRECT USB disk']] as const;
  // The CPU ceiling of a path: its best round without netem (no "local" row: no ceiling known, every target applies).
  const ceiling = (w: 'Nbd' | 'Usb'): number | undefined => {
    const rounds = [...((def[`local${w}Rounds`] as number[] | undefined) ?? []), ...((def[`local${w}SustainedRounds`] as number[] | undefined) ?? [])];
    return rounds.length ? Math.max(...rounds) : undefined;
  };
  // The rate a path sustains (the link's rate while each read's second half crossed it, see sequentialRead in wan.ts) where the guest measured it; whole reads in the note.
  const rateKey = (r: GuestResult, prefix: string): string => (r[`${prefix}SustainedMiBps`] !== undefined ? `${prefix}SustainedMiBps` : `${prefix}MiBps`);
  const wholeNote = (r: GuestResult, prefix: string): string =>
    r[`${prefix}SustainedMiBps`] !== undefined ? `the link's rate while each read's second half crossed it, ${spread(r, `${prefix}SustainedRounds`)}; whole reads as the reader saw them ${spread(r, `${prefix}Rounds`)}` : spread(r, `${prefix}Rounds`);
  for (const [name, w] of where) {
    if (def[`local${w}MiBps`] === undefined) continue;
    out.push({ name: `vm.wan.default.local.${name}`, value: num(def, `local${w}MiBps`), unit: 'MiB/s', note: `no netem: the ceiling this VM's CPU allows on the same path; ${spread(def, `local${w}Rounds`)}` });
  }
  for (const l of ['wan100', 'wan100slow']) {
    const linkRate = def[`${l}Rate`] === undefined ? undefined : linkMiBps(String(def[`${l}Rate`]));
    if (linkRate === undefined) continue;
    for (const [name, w, how] of where) {
      if (def[`${l}${w}MiBps`] === undefined) continue;
      const v = num(def, rateKey(def, `${l}${w}`));
      const cpu = ceiling(w);
      const reachable = cpu === undefined || cpu >= WAN_LINK_FRACTION_TARGET * linkRate;
      out.push({
        name: `vm.wan.default.${l}.${name}.link_fraction`,
        value: round(v / linkRate),
        unit: 'x',
        baseline: round(linkRate),
        ratio: round(v / linkRate),
        ...(reachable ? { target: `>= ${WAN_LINK_FRACTION_TARGET}x`, pass: v / linkRate >= WAN_LINK_FRACTION_TARGET } : {}),
        note: `${v} MiB/s of the ${round(linkRate)} MiB/s link, 128 KiB sequential reads (${how}); ${wholeNote(def, `${l}${w}`)}; ${link(def, l)}${reachable ? '' : `; no target: this VM's CPU carries at most ${cpu} MiB/s on this path, below ${WAN_LINK_FRACTION_TARGET} of the link (see ${l}slow)`}`,
      });
    }
  }
  for (const l of ['rtt40', 'rtt40slow']) {
    if (!plain) break;
    for (const [name, w] of where) {
      if (def[`${l}${w}MiBps`] === undefined || plain[`${l}${w}MiBps`] === undefined) continue;
      const v = num(def, rateKey(def, `${l}${w}`));
      const p = num(plain, rateKey(plain, `${l}${w}`));
      const cpu = ceiling(w);
      const reachable = cpu === undefined || cpu >= WAN_VS_PLAIN_TARGET * p;
      out.push(
        { name: `vm.wan.plain_curl.${l}.${name}`, value: p, unit: 'MiB/s', note: `bare curl plugin, nbd driver defaults; ${wholeNote(plain, `${l}${w}`)}; ${link(plain, l)}` },
        {
          name: `vm.wan.default.${l}.${name}.vs_plain`,
          value: v,
          unit: 'MiB/s',
          baseline: p,
          ratio: round(v / p),
          ...(reachable ? { target: `>= ${WAN_VS_PLAIN_TARGET}x`, pass: v / p >= WAN_VS_PLAIN_TARGET } : {}),
          note: `the daemon's default; ${wholeNote(def, `${l}${w}`)}; ${link(def, l)}${reachable ? '' : `; no target: this VM's CPU carries at most ${cpu} MiB/s on this path, less than ${WAN_VS_PLAIN_TARGET}x the bare plugin's ${p} (see rtt40slow)`}`,
        },
      );
    }
  }
  for (const r of [def, cache].filter((x): x is GuestResult => x !== undefined)) {
    for (const l of ['wan100', 'rtt40', 'wan100slow', 'rtt40slow']) {
      if (r[`${l}RandomMedianMs`] === undefined) continue;
      const rtts = num(r, `${l}RandomMedianMs`) / num(r, `${l}RttMs`);
      out.push({
        name: `vm.wan.${String(r.variant)}.${l}.random_4k`,
        value: round(rtts),
        unit: 'RTT',
        target: `<= ${WAN_RANDOM_RTT_TARGET}`,
        pass: rtts <= WAN_RANDOM_RTT_TARGET,
        note: `median of ${JSON.stringify(r[`${l}RandomMs`])} ms over RTT ${num(r, `${l}RttMs`)} ms`,
      });
    }
  }
  if (cache) {
    for (const l of ['wan100', 'rtt40']) {
      const key = `${l}CachePeakMiB`;
      if (cache[key] === undefined) continue;
      const peak = num(cache, key);
      const cap = num(cache, 'cacheCapMiB');
      out.push(
        { name: `vm.wan.cache.${l}.nbd`, value: num(cache, `${l}NbdMiBps`), unit: 'MiB/s', note: `Nbdkit.CacheMiB ${cap}; ${spread(cache, `${l}NbdRounds`)}; ${link(cache, l)}` },
        ...(cache[`${l}UsbMiBps`] === undefined ? [] : [{ name: `vm.wan.cache.${l}.usb_disk`, value: num(cache, `${l}UsbMiBps`), unit: 'MiB/s', note: `Nbdkit.CacheMiB ${cap}; ${spread(cache, `${l}UsbRounds`)}` }]),
        { name: `vm.wan.cache.${l}.peak`, value: peak, unit: 'MiB', baseline: cap, ratio: round(peak / cap), target: '<= 1.0x', pass: peak <= cap, note: "nbdkit cache file's allocated bytes, sampled every 50 ms and after the reads" },
      );
    }
  }
  return out;
}

export async function run(): Promise<BenchResult[]> {
  if (process.env.BENCH_VM_PARTS === 'wan') return runWanOnly();
  const vm = await bootShippedDaemon(SCRIPT, 3_600_000);
  const results = [...benchResults(vm.results), ...wanResults(vm.results)];
  if (!vm.results.some((r) => r.scenario === 'daemon-mount-latency')) throw new Error('VM bench: no daemon-mount-latency result (did the driver start?)');
  results.unshift({ name: 'vm.boot_to_script', value: vm.timings.bootToScriptMs ?? NaN, unit: 'ms', note: `accel ${vm.accel}, kernel ${vm.kernelVersion}` });
  results.push({ name: 'vm.total', value: vm.timings.totalMs, unit: 'ms', note: 'one boot for all VM bench parts' });
  return results;
}

/**
 * E2E_BENCH_* settings for the guest's driver (image size, rounds, ...). The
 * WAN mounts get a 300 s nbd Timeout unless told otherwise: a software-emulated
 * guest moves HTTPS at a few Mbit/s, too slow for 8 MiB requests within 30 s
 * (daemon/README.md, "Streaming over a WAN").
 */
function benchEnv(): Record<string, string> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('E2E_BENCH_') && e[1] !== undefined));
  return { E2E_BENCH_NBD_TIMEOUT: '300', ...env };
}

/** One boot of the shipped daemon (release tarball, layer unit) with the patched module, running `script`. */
async function bootShippedDaemon(script: string, timeoutMs: number): Promise<RunInVmResult> {
  const shipped = await prepareShippedBoot('bench-vm-shipped-');
  const onLine = verboseConsole('bench');
  return runInVm({
    installRoot: shipped.root,
    script,
    timeoutMs,
    memoryMiB: 1536,
    replaceModules: { usb_f_mass_storage: shipped.ko },
    env: benchEnv(),
    ...(onLine ? { onLine } : {}),
  }).finally(() => rmSync(shipped.installDir, { recursive: true, force: true }));
}

async function runWanOnly(): Promise<BenchResult[]> {
  const vm = await bootShippedDaemon(WAN_ONLY_SCRIPT, 3_600_000);
  for (const r of vm.results) process.stderr.write(`vm result: ${JSON.stringify(r)}\n`);
  return [...wanResults(vm.results), { name: 'vm.total', value: vm.timings.totalMs, unit: 'ms', note: `WAN rows only, accel ${vm.accel}` }];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    (results) => {
      for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
