// Bench: a daemon-made HTTPS mount over a WAN-like link (netem on lo, so a
// round trip is twice the delay), read as a host does. For each link
// profile: the round trip (a TCP connect), sequential 128 KiB reads of
// /dev/nbdN (buffered: the kernel's readahead works as it does for the
// USB gadget) and of the USB disk (O_DIRECT, caches dropped first), repeated;
// random 4 KiB reads of /dev/nbdN (fresh offsets, median latency); and
// where nbdkit keeps a cache, its peak allocated size. Which nbdkit and
// block-device settings apply is the daemon's config (driver.ts restarts
// it per variant).
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
  /** Also read the USB disk (slow under TCG: the emulated USB path costs far more CPU than nbd). */
  readonly usb: boolean;
}

export const LINKS: Record<string, LinkProfile> = {
  /** No netem: what this VM's CPU allows on the same path (TLS, nbd, the USB emulation), the ceiling under the others. */
  local: { name: 'local', delayMs: 0, rate: undefined, usb: false },
  wan100: { name: 'wan100', delayMs: 50, rate: '100mbit', usb: true },
  rtt40: { name: 'rtt40', delayMs: 20, rate: undefined, usb: true },
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

async function seqRate(device: string, bytes: number, direct: boolean): Promise<number> {
  dropCaches();
  const t = process.hrtime.bigint();
  await run('dd', [`if=${device}`, 'of=/dev/null', 'bs=128K', ...(direct ? ['iflag=direct'] : []), 'status=none']);
  return round(bytes / 2 ** 20 / (Number(process.hrtime.bigint() - t) / 1e9));
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

export async function wanStream(c: Context, variant: string, links: LinkProfile[], imageMiB: number, rounds: number, cacheCapMiB: number | undefined, usb = true): Promise<Measures> {
  const image = randomImage(join(c.work, 'www'), `wan-${variant}.img`, imageMiB);
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  const out: Measures = { variant, imageMiB, rounds };
  try {
    for (const profile of links) {
      const link = { ...profile, usb: profile.usb && usb };
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
        const nbd: number[] = [];
        const usb: number[] = [];
        try {
          for (let i = 0; i < rounds; i++) {
            nbd.push(await seqRate(nbdDev, image.bytes, false));
            if (link.usb) usb.push(await seqRate(`/dev/${disk.name}`, image.bytes, true));
            progress(`${variant} ${link.name} round ${i + 1}: nbd ${nbd.at(-1)} MiB/s, usb ${usb.at(-1)} MiB/s, cache peak ${(peak / 2 ** 20).toFixed(1)} MiB`);
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
          [`${link.name}NbdMiBps`]: median(nbd),
          [`${link.name}NbdRounds`]: nbd,
          ...(usb.length ? { [`${link.name}UsbMiBps`]: median(usb), [`${link.name}UsbRounds`]: usb } : {}),
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
