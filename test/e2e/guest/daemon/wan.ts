// Bench: a daemon-made HTTPS mount over a WAN-like link (netem on lo, so a
// round trip is twice the delay), read as a host does. For each link
// profile: the round trip (a TCP connect), sequential 128 KiB reads of
// /dev/nbdN (buffered: the kernel's readahead works as it does for the
// USB gadget) and of the USB disk (O_DIRECT, caches dropped first), repeated;
// random 4 KiB reads of /dev/nbdN (fresh offsets, median latency); and
// where nbdkit keeps a cache, its peak allocated size. Which nbdkit and
// block-device settings apply is the daemon's config (driver.ts restarts
// it per variant).
import { spawn } from 'node:child_process';
import { open, readdir, readlink, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { randomImage } from './fixtures.js';
import { dropCaches, run, sha256, waitForUsbDevice } from './kernel-view.js';
import { Medium } from './media-client.js';
import type { Context, Measures } from './scenarios.js';

export interface LinkProfile {
  readonly name: string;
  readonly delayMs: number;
  /** netem rate, e.g. `100mbit`; undefined = no limit. */
  readonly rate: string | undefined;
}

/** How much slower the slow-motion links are (see LINKS): 100 Mbit/s becomes 6.25 Mbit/s, within what the emulated CPU carries through the USB path. */
export const SLOW_MOTION = 16;

export const LINKS: Record<string, LinkProfile> = {
  /** No netem: what this VM's CPU allows on the same path (TLS, nbd, the USB emulation), the ceiling under the others. */
  local: { name: 'local', delayMs: 0, rate: undefined },
  wan100: { name: 'wan100', delayMs: 50, rate: '100mbit' },
  rtt40: { name: 'rtt40', delayMs: 20, rate: undefined },
  // The same two links in slow motion (SLOW_MOTION times slower): a
  // software-emulated guest moves HTTPS through nbd at ~2 MiB/s, so on the
  // links above its CPU is the limit and the rows say nothing about round
  // trips. With the rate divided and the delay multiplied by the same factor,
  // the bandwidth-delay product (what must be in flight to fill the link:
  // 1.25 MB for 50 ms + 100 Mbit/s) and the number of round trips a read of
  // the same image spans stay those of the real link, and TCP's own dynamics
  // (slow start, window growth) are counted in round trips; only the
  // emulated CPU's share shrinks. rtt40slow has no rate limit, as rtt40.
  wan100slow: { name: 'wan100slow', delayMs: 50 * SLOW_MOTION, rate: `${100_000 / SLOW_MOTION}kbit` },
  rtt40slow: { name: 'rtt40slow', delayMs: 20 * SLOW_MOTION, rate: undefined },
};

/** Progress on the guest console (a long scenario otherwise says nothing until it ends). */
const progress = (line: string): void => {
  process.stdout.write(`E2E-INFO wan ${line}\n`);
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

async function tcpConnectMs(port: number): Promise<number> {
  const t = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
  return Number(process.hrtime.bigint() - t) / 1e6;
}

interface ReadRate {
  /** MiB/s over the whole read, as the reader saw it. */
  whole: number;
  /** MiB/s the link carried while the image's second half crossed it. */
  sustained: number;
}

/** Bytes that crossed the loopback device so far: the netem link, which only the image's HTTPS traffic uses during a read (nbd and D-Bus are unix sockets). */
function linkBytes(): number {
  return Number(readFileSync('/sys/class/net/lo/statistics/rx_bytes', 'utf8'));
}

/**
 * dd's sequential 128 KiB reads of `device`, timed whole, and the rate the
 * link carried the image's second half at. The start of a read pays costs
 * counted in round trips: TCP slow start on each new HTTPS connection and
 * the kernel's readahead window ramping up to 8 MiB (about ten round trips,
 * 16 s on a slow-motion link). An installer reading gigabytes pays them
 * once; over a test image of a few dozen MiB they are a large share. Neither
 * the reader's clock nor the nbd device's completed requests can time the
 * second half (readahead fetched part of it before the reader got there,
 * and 8 MiB requests complete in bursts); the bytes crossing the link can.
 * Polled every 20 ms.
 */
async function sequentialRead(device: string, bytes: number, direct: boolean): Promise<ReadRate> {
  dropCaches();
  const base = linkBytes();
  const t0 = process.hrtime.bigint();
  const dd = spawn('dd', [`if=${device}`, 'of=/dev/null', 'bs=128K', ...(direct ? ['iflag=direct'] : []), 'status=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  dd.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let half: { t: bigint; bytes: number } | undefined;
  let last = { t: t0, bytes: base };
  const poll = setInterval(() => {
    const now = { t: process.hrtime.bigint(), bytes: linkBytes() };
    if (now.bytes !== last.bytes) last = now;
    if (half === undefined && now.bytes - base >= bytes / 2) half = now;
  }, 20);
  const code = await new Promise<number | null>((resolve, reject) => {
    dd.once('error', reject);
    dd.once('close', resolve);
  }).finally(() => clearInterval(poll));
  const end = process.hrtime.bigint();
  if (code !== 0) throw new Error(`dd if=${device}: exit ${code}: ${stderr.trim()}`);
  const mibps = (b: number, from: bigint, to: bigint) => round(b / 2 ** 20 / (Number(to - from) / 1e9));
  const whole = mibps(bytes, t0, end);
  // From the sample that passed half the image to the last sample in which bytes still moved.
  return { whole, sustained: half === undefined || last.t <= half.t ? whole : mibps(last.bytes - half.bytes, half.t, last.t) };
}

/** Random 4 KiB reads at fresh 1 MiB-spaced offsets (buffered, caches dropped: nothing cached, no readahead for random reads). */
async function randomReadsMs(device: string, bytes: number, count: number): Promise<number[]> {
  dropCaches();
  const slots = Math.floor(bytes / 2 ** 20) - 1;
  const picked = new Set<number>();
  while (picked.size < Math.min(count, slots)) picked.add(1 + Math.floor(Math.random() * slots));
  const fh = await open(device, 'r');
  const buf = Buffer.alloc(4096);
  const out: number[] = [];
  try {
    for (const slot of picked) {
      const t = process.hrtime.bigint();
      await fh.read(buf, 0, 4096, slot * 2 ** 20 + 8192);
      out.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  } finally {
    await fh.close();
  }
  return out;
}

/** Allocated bytes of nbdkit's cache file (an unlinked file under its TMPDIR), or undefined without one. */
async function cacheBytes(pid: number): Promise<number | undefined> {
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (!/^\/(var\/)?tmp\/.*\(deleted\)$/.test(target)) continue;
    const st = await stat(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
    if (st) return st.blocks * 512;
  }
  return undefined;
}

/** `<prefix>MiBps`/`Rounds` (whole reads) and `<prefix>SustainedMiBps`/`SustainedRounds` (second halves): medians and every round. */
function rateFields(prefix: string, rates: ReadRate[]): Measures {
  if (!rates.length) return {};
  const whole = rates.map((r) => r.whole);
  const sustained = rates.map((r) => r.sustained);
  return { [`${prefix}MiBps`]: median(whole), [`${prefix}Rounds`]: whole, [`${prefix}SustainedMiBps`]: median(sustained), [`${prefix}SustainedRounds`]: sustained };
}

export async function wanStream(c: Context, variant: string, links: LinkProfile[], imageMiB: number, rounds: number, cacheCapMiB: number | undefined, readUsb = true): Promise<Measures> {
  const image = randomImage(join(c.work, 'www'), `wan-${variant}.img`, imageMiB);
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  const nbdkit = process.env.E2E_BENCH_NBDKIT ?? 'nbdkit';
  const out: Measures = { variant, imageMiB, rounds, nbdkit: (await run(nbdkit, ['--version'])).stdout.trim() };
  try {
    for (const link of links) {
      const netem = ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', `${link.delayMs}ms`, ...(link.rate ? ['rate', link.rate] : []), 'limit', '100000'];
      if (link.delayMs > 0 || link.rate) await run('tc', netem);
      try {
        const rtt = median(await Promise.all([0, 1, 2].map(() => tcpConnectMs(c.servers.open.port))));
        progress(`${variant} ${link.name}: RTT ${rtt.toFixed(1)} ms, mounting`);
        const t0 = Date.now();
        await m.mountLegacy(`https://localhost:${c.servers.open.port}/${image.name}`, false);
        await m.expectCompletion('Mount', t0, 120_000);
        const disk = await waitForUsbDevice('sd');
        const nbdDev = `/dev/${c.legacy.nbd}`;
        const queue = `/sys/block/${c.legacy.nbd}/queue`;
        const readAheadKb = Number(readFileSync(`${queue}/read_ahead_kb`, 'utf8'));
        const maxSectorsKb = Number(readFileSync(`${queue}/max_sectors_kb`, 'utf8'));
        const nbdkitPid = Number(readFileSync(`/run/virtual-media/${c.legacy.id}.nbdkit.pid`, 'utf8'));
        let peak = 0;
        const sampler = setInterval(() => {
          void cacheBytes(nbdkitPid).then((b) => {
            if (b !== undefined) peak = Math.max(peak, b);
          });
        }, 50);
        const nbd: ReadRate[] = [];
        const usb: ReadRate[] = [];
        try {
          for (let i = 0; i < rounds; i++) {
            nbd.push(await sequentialRead(nbdDev, image.bytes, false));
            if (readUsb) usb.push(await sequentialRead(`/dev/${disk.name}`, image.bytes, true));
            const say = (r: ReadRate | undefined) => (r ? `${r.whole} MiB/s (the link carried the second half at ${r.sustained})` : '-');
            progress(`${variant} ${link.name} round ${i + 1}: nbd ${say(nbd.at(-1))}, usb ${say(usb.at(-1))}, cache peak ${(peak / 2 ** 20).toFixed(1)} MiB`);
          }
        } finally {
          clearInterval(sampler);
        }
        const randomMs = await randomReadsMs(nbdDev, image.bytes, 9);
        progress(`${variant} ${link.name}: random 4 KiB ${randomMs.map((x) => x.toFixed(0)).join(' ')} ms`);
        const final = await cacheBytes(nbdkitPid);
        if (final !== undefined) peak = Math.max(peak, final);
        // Through nbd, not the USB disk: the same page cache the gadget reads, at a fraction of the emulated USB's CPU.
        dropCaches();
        const got = await sha256(nbdDev);
        if (got !== image.sha256) throw new Error(`${variant} ${link.name}: sha256 of ${nbdDev} ${got} != image ${image.sha256}`);
        const t1 = Date.now();
        await m.unmount();
        await m.expectCompletion('Unmount', t1, 60_000);
        Object.assign(out, {
          [`${link.name}RttMs`]: round(rtt, 1),
          [`${link.name}DelayMs`]: link.delayMs,
          [`${link.name}Rate`]: link.rate ?? 'none',
          ...rateFields(`${link.name}Nbd`, nbd),
          ...rateFields(`${link.name}Usb`, usb),
          [`${link.name}RandomMedianMs`]: round(median(randomMs), 1),
          [`${link.name}RandomMs`]: randomMs.map((x) => round(x, 1)),
          [`${link.name}ReadAheadKb`]: readAheadKb,
          [`${link.name}MaxSectorsKb`]: maxSectorsKb,
          ...(cacheCapMiB !== undefined ? { [`${link.name}CachePeakMiB`]: round(peak / 2 ** 20), cacheCapMiB } : {}),
        });
      } finally {
        await run('tc', ['qdisc', 'del', 'dev', 'lo', 'root']).catch(() => undefined);
      }
    }
    return out;
  } finally {
    rmSync(image.path, { force: true });
    await m.close();
  }
}
