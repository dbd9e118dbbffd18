// A flaky network between nbdkit's curl and the HTTPS server: every packet
// on lo dropped (netem loss 100%) in the middle of a whole-disk read.
// - It comes back within curl's timeout: TCP retransmits, the reads resume
//   and the sha256 of the whole medium still matches.
// - It never comes back: the host's read fails within a bounded time, and
//   the medium can still be ejected.
import { randomImage } from '../fixtures.js';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { dropCaches, sleep, waitClean, waitFor } from '../kernel-view.js';
import type { Measures } from '../scenarios.js';
import { lo, readWholeDevice, sha256Prefix } from './host-side.js';
import { READ_ERROR_BOUND_MS } from './crashes.js';
import { eject, insert } from './media.js';
import { HTTP_TIMEOUT_S, type World } from './world.js';

/** Dropped for a fraction of curl's timeout: with TCP's retransmission back-off (doubling from 200 ms) it still fits. */
const OUTAGE_MS = 5000;

export async function networkComesBack(w: World): Promise<Measures> {
  const image = randomImage(join(w.work, 'www'), 'flaky.img', 16);
  const i = await insert(w, 'disk', image);
  try {
    dropCaches();
    let readBytes = 0;
    const t0 = Date.now();
    const hashing = sha256Prefix(`/dev/${i.device.name}`, image.bytes, (n) => (readBytes = n));
    // Past the first blocks (the partition scan cached those), well before the end.
    await waitFor('the read to be under way', 60_000, () => readBytes >= 2 << 20 || readBytes >= image.bytes, 20);
    const readAtOutage = readBytes;
    if (readAtOutage >= image.bytes) throw new Error('the whole medium was read before the outage began');
    await lo.set('loss', '100%');
    await sleep(OUTAGE_MS);
    const readDuringOutage = readBytes - readAtOutage;
    await lo.clear();
    const got = await hashing;
    const totalMs = Date.now() - t0;
    if (got !== image.sha256) throw new Error(`sha256 after the outage ${got} != ${image.sha256}`);
    await eject(i);
    return { outageMs: OUTAGE_MS, readMiBAtOutage: readAtOutage / 1048576, readKiBDuringOutage: readDuringOutage / 1024, totalReadMs: totalMs, imageMiB: image.bytes >> 20, httpTimeoutS: HTTP_TIMEOUT_S };
  } catch (e) {
    await lo.clear();
    await eject(i).catch(() => undefined);
    throw e;
  } finally {
    rmSync(image.path, { force: true });
  }
}

export async function networkDies(w: World): Promise<Measures> {
  const image = randomImage(join(w.work, 'www'), 'dead.img', 16);
  const i = await insert(w, 'disk', image);
  let closed = false;
  try {
    const read = readWholeDevice(`/dev/${i.device.name}`, READ_ERROR_BOUND_MS);
    await sleep(1000);
    const diedAt = Date.now();
    await lo.set('loss', '100%');
    const outcome = await read.done;
    if (outcome.hung) throw new Error(`the host's read still hung ${outcome.ms} ms after the network died`);
    if (outcome.code === 0) throw new Error('the whole medium was read before the network died');
    const readErrorMs = Date.now() - diedAt;
    // Ejecting must work with the server still unreachable. The medium may
    // already be on its way out (nbd-client gives up on a dead server: an errno).
    const t = Date.now();
    let ejectErrno: number;
    let selfEjected = false;
    try {
      await i.medium.unmount();
      ejectErrno = (await i.medium.nextCompletion(90_000)).errno;
    } catch (e) {
      if ((await i.medium.process.get('Active')) !== false && i.medium.pendingCompletions === 0) throw e;
      selfEjected = true;
      ejectErrno = i.medium.pendingCompletions ? (await i.medium.nextCompletion(1000)).errno : -1;
    }
    if ((await i.medium.process.get('Active')) !== false) throw new Error('Process.Active still true after the eject');
    await waitClean(i.slot.nbd, i.socket);
    const ejectMs = Date.now() - t;
    closed = true;
    await i.medium.close();
    return { readErrorMs, readError: outcome.error, ejectMs, ejectErrno, selfEjected, httpTimeoutS: HTTP_TIMEOUT_S };
  } finally {
    await lo.clear();
    if (!closed) await eject(i).catch(() => undefined);
    rmSync(image.path, { force: true });
  }
}
