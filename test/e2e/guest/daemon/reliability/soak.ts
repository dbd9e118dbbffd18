// Soak: insert -> read (sha256 of the whole USB device) -> eject, over and
// over, rotating through the four mount points and kinds of media, with the
// leak ledger taken before and after. One warm-up round of each kind comes
// first: the first insertion loads child_process, makes the CIFS directory
// and compiles the code paths, which is not a leak.
import { sleep, waitFor } from '../kernel-view.js';
import type { Measures } from '../scenarios.js';
import { sha256Prefix } from './host-side.js';
import { censusGrowth, heapAfterGc, heapCensus, type HeapCensus, type HeapReading } from './heap.js';
import { takeLedger, ledgerDifferences, rssParts, type Ledger, type RssParts } from './ledger.js';
import { eject, insert, proxyServer, type Kind } from './media.js';
import { mainPid } from './unit.js';
import type { World } from './world.js';

const ORDER: Kind[] = ['disk', 'cd', 'smb', 'proxy'];

export interface SoakOptions {
  cycles: number;
  /** How much the daemon's anonymous RSS may grow over the soak (see the README's reliability section). */
  rssAllowanceKiB: number;
  /** How much the daemon's live JavaScript heap (after a full GC) may grow. */
  heapAllowanceKiB: number;
}

export async function soak(w: World, o: SoakOptions): Promise<Measures> {
  const bmcweb = await proxyServer(`/run/virtual-media-proxy/${w.slots.proxy.nbd}.sock`, w.small);
  const imageOf = (kind: Kind) => (kind === 'cd' ? w.iso : kind === 'smb' ? w.share.small : w.small);
  const cycle = async (n: number): Promise<number> => {
    const kind = ORDER[n % ORDER.length]!;
    const t = Date.now();
    const i = await insert(w, kind, imageOf(kind));
    try {
      const got = await sha256Prefix(`/dev/${i.device.name}`, i.image.bytes);
      if (got !== i.image.sha256) throw new Error(`cycle ${n} (${kind} on ${i.slot.id}): sha256 ${got} != ${i.image.sha256}`);
    } catch (e) {
      await eject(i).catch(() => undefined);
      throw e;
    }
    await eject(i);
    return Date.now() - t;
  };
  try {
    for (let n = 0; n < ORDER.length; n++) await cycle(n);
    await sleep(2000);
    const pid = await mainPid();
    const heapStart = await heapAfterGc(pid);
    // E2E_SOAK_HEAP_CENSUS=1: heap snapshots after the warm-up and at the end, what grew by kind (finding a leak, not judging one).
    const censusStart: HeapCensus | undefined = process.env.E2E_SOAK_HEAP_CENSUS === '1' ? await heapCensus(pid) : undefined;
    const start = await takeLedger();
    const heap: HeapReading[] = [];
    const rss: RssParts[] = [];
    const ms: number[] = [];
    const t0 = Date.now();
    for (let n = 0; n < o.cycles; n++) {
      ms.push(await cycle(n));
      if ((n + 1) % 25 === 0 || n + 1 === o.cycles) {
        // The ledger so far (between cycles: nothing is inserted), for the long soak's progress lines.
        const now = await takeLedger();
        const h = await heapAfterGc(now.daemonPid);
        heap.push(h);
        const parts = rssParts(now.daemonPid);
        rss.push(parts);
        const changed = ledgerDifferences(start, now, Infinity);
        process.stdout.write(`E2E-SOAK ${n + 1}/${o.cycles} cycles, ${Math.round((Date.now() - t0) / 1000)} s, daemon RSS ${parts.totalKiB} KiB (anon ${parts.anonKiB}, file ${parts.fileKiB}, shmem ${parts.shmemKiB}), heap after GC ${h.heapUsedKiB} KiB (total ${h.heapTotalKiB}, external ${h.externalKiB}), fds ${now.daemonFds}, ledger ${changed.length ? `changed: ${changed.join('; ')}` : 'unchanged'}\n`);
      }
    }
    const soakMs = Date.now() - t0;
    // Children are reaped and sockets closed asynchronously: give the ledger a moment to settle.
    let end: Ledger = await takeLedger();
    let differences: string[] = [];
    await waitFor('the leak ledger to be back at its start values', 15_000, async () => {
      end = await takeLedger();
      differences = ledgerDifferences(start, end, o.rssAllowanceKiB);
      return differences.length === 0;
    }, 1000).catch(() => undefined);
    const heapEnd = await heapAfterGc(end.daemonPid);
    const heapGrowth = censusStart ? censusGrowth(censusStart, await heapCensus(end.daemonPid)) : undefined;
    if (heapGrowth) for (const g of heapGrowth) process.stdout.write(`E2E-SOAK heap growth ${g.kind}: ${g.count >= 0 ? '+' : ''}${g.count} objects, ${g.bytes >= 0 ? '+' : ''}${g.bytes} bytes\n`);
    if (heapEnd.heapUsedKiB - heapStart.heapUsedKiB > o.heapAllowanceKiB) differences.push(`live heap after GC: ${heapStart.heapUsedKiB} -> ${heapEnd.heapUsedKiB} KiB (more than +${o.heapAllowanceKiB} KiB; samples ${JSON.stringify(heap.map((x) => x.heapUsedKiB))})`);
    const ledger = { start, end };
    if (differences.length) throw new Error(`leak ledger after ${o.cycles} cycles: ${differences.join('; ')}; ledger ${JSON.stringify(ledger)}`);
    const sorted = [...ms].sort((a, b) => a - b);
    return {
      cycles: o.cycles,
      soakMs,
      cycleMsMedian: sorted[Math.floor((sorted.length - 1) / 2)],
      cycleMsMax: sorted.at(-1),
      rssStartKiB: start.daemonRssKiB,
      rssEndKiB: end.daemonRssKiB,
      rssSamplesKiB: rss.map((r) => r.totalKiB),
      rssAnonSamplesKiB: rss.map((r) => r.anonKiB),
      rssFileSamplesKiB: rss.map((r) => r.fileKiB),
      rssShmemSamplesKiB: rss.map((r) => r.shmemKiB),
      rssAllowanceKiB: o.rssAllowanceKiB,
      heapStart,
      heapEnd,
      heapSamples: heap,
      heapAllowanceKiB: o.heapAllowanceKiB,
      ...(heapGrowth ? { heapGrowth } : {}),
      ledger,
    };
  } finally {
    await bmcweb.stop();
  }
}
