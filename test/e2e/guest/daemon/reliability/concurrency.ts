// Four media at once on four UDCs: an HTTPS CD-ROM, an HTTPS disk, an SMB
// disk read-write and a proxy disk, inserted together, read together from
// the host side (sha256 of each), a write to the SMB disk landing in the
// share's file, Stats moving per medium, then all four ejected together.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropCaches, gadgets, run, waitFor } from '../kernel-view.js';
import type { Measures } from '../scenarios.js';
import { cifsMountsAnywhere, sha256Prefix } from './host-side.js';
import { eject, insert, proxyServer, type Inserted } from './media.js';
import type { World } from './world.js';

export async function concurrency(w: World): Promise<Measures> {
  const proxySocket = `/run/virtual-media-proxy/${w.slots.proxy.nbd}.sock`;
  const bmcweb = await proxyServer(proxySocket, w.small);
  const inserted: Inserted[] = [];
  try {
    const t0 = Date.now();
    const all = await Promise.allSettled([
      insert(w, 'cd', w.iso),
      insert(w, 'disk', w.small),
      insert(w, 'smb', w.share.rwSmall, { readWrite: true }),
      insert(w, 'proxy', w.small),
    ]);
    for (const r of all) if (r.status === 'fulfilled') inserted.push(r.value);
    const failed = all.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new Error(`inserting four media at once: ${failed.map((f) => (f.reason as Error).message).join('; ')}`);
    const allInsertedMs = Date.now() - t0;
    // The probe the crash scenario trusts to find no CIFS mount left must see this one.
    if (cifsMountsAnywhere() < 1) throw new Error('/proc/fs/cifs/DebugData counts no CIFS mount while an SMB medium is in');
    const udcs = gadgets().map((g) => readFileSync(`/sys/kernel/config/usb_gadget/${g}/UDC`, 'utf8').trim());
    if (new Set(udcs).size !== 4 || udcs.some((u) => !u)) throw new Error(`four gadgets must be bound to four UDCs, found ${JSON.stringify(udcs)}`);

    const before = await Promise.all(inserted.map(async (i) => ({ read: await i.medium.stats.get('ReadIO'), write: await i.medium.stats.get('WriteIO') })));
    dropCaches();
    const t1 = Date.now();
    const hashes = await Promise.all(
      inserted.map((i) =>
        sha256Prefix(`/dev/${i.device.name}`, i.image.bytes).catch((e: Error) => {
          throw new Error(`${i.slot.id} (${i.image.name}): ${e.message}`);
        }),
      ),
    );
    const concurrentReadMs = Date.now() - t1;
    inserted.forEach((i, n) => {
      if (hashes[n] !== i.image.sha256) throw new Error(`${i.slot.id} (/dev/${i.device.name}, ${i.image.name}): sha256 ${hashes[n]} != ${i.image.sha256}`);
    });
    const smbIndex = inserted.findIndex((i) => i.slot.id === w.slots.smb.id);
    const smb = inserted[smbIndex]!;
    const payload = join(w.work, 'concurrency-payload');
    writeFileSync(payload, randomBytes(1 << 20));
    await run('dd', [`if=${payload}`, `of=/dev/${smb.device.name}`, 'bs=64k', 'oflag=direct', 'conv=fsync', 'status=none']);
    // The kernel's counters reach Stats once a second (the inactivity monitor's tick).
    const after = await waitFor('Stats.ReadIO of every medium and the SMB disk WriteIO to move', 15_000, async () => {
      const now = await Promise.all(inserted.map(async (i) => ({ read: await i.medium.stats.get('ReadIO'), write: await i.medium.stats.get('WriteIO') })));
      const moved = now.every((s, n) => s.read > before[n]!.read) && now[smbIndex]!.write > before[smbIndex]!.write;
      return moved ? now : undefined;
    }, 500);

    const t2 = Date.now();
    const ejected = await Promise.allSettled(inserted.splice(0).map((i) => eject(i)));
    const notEjected = ejected.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (notEjected.length) throw new Error(`ejecting all four: ${notEjected.map((f) => (f.reason as Error).message).join('; ')}`);
    const allEjectedMs = Date.now() - t2;
    if (!readFileSync(w.share.rwSmall.path).subarray(0, 1 << 20).equals(readFileSync(payload))) throw new Error(`the write through the SMB USB disk did not reach ${w.share.rwSmall.name} on the share`);
    return {
      media: all.map((r) => (r.status === 'fulfilled' ? `${r.value.slot.id}:${r.value.device.name}:${r.value.image.name}` : '?')),
      udcs,
      allInsertedMs,
      mountMs: all.map((r) => (r.status === 'fulfilled' ? r.value.mountMs : -1)),
      concurrentReadMs,
      concurrentReadMiB: Math.round(all.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value.image.bytes : 0), 0) / 1048576),
      allEjectedMs,
      readIo: after.map((s, n) => Number(s.read - before[n]!.read)),
      smbWriteIo: Number(after[smbIndex]!.write - before[smbIndex]!.write),
    };
  } finally {
    // A failure above may leave media in: eject them so the next scenario starts from ready.
    await Promise.allSettled(inserted.map((i) => eject(i)));
    await bmcweb.stop();
  }
}
