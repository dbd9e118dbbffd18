// Unmount while the host's read waits on a backend that has stopped
// answering (nbdkit stopped with SIGSTOP: alive, its socket open, nothing
// coming back). The eject must still end with Completion(0), leave nothing
// behind, and the next Mount must work. The medium is read-only, so the
// daemon does not wait for nbd's timeout: once the gadget's removal has
// waited a few seconds on the read it serves, it detaches the nbd device,
// which fails that read (its journal says so, and the kernel must not have
// timed the request out). Before that, the daemon's threads blocked in the
// kernel are sampled: each holds one of libuv's workers (the reason for
// UV_THREADPOOL_SIZE in the unit).
import { readdirSync, readFileSync } from 'node:fs';
import { killQuietly, onlyProcess, processes, run, sleep, waitClean, waitFor } from '../kernel-view.js';
import type { Measures } from '../scenarios.js';
import { READ_ERROR_BOUND_MS, nextMountWorks } from './crashes.js';
import { readWholeDevice, usbDeviceOf } from './host-side.js';
import { eject, insert } from './media.js';
import { earlyDetaches, mainPid } from './unit.js';
import type { World } from './world.js';

/** How long into the read the server stops, and how long the read then waits before the Unmount. */
const INTO_READ_MS = 1500;
const STALLED_MS = 2000;
/** When the daemon's blocked threads are sampled, after the Unmount (before the daemon's patience of 3 s runs out). */
const SAMPLE_AFTER_MS = 1500;

/** Threads of `pid` in uninterruptible sleep, as "wchan: top of the kernel stack". */
function blockedThreads(pid: number): string[] {
  const out: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const state = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0];
      if (state !== 'D') continue;
      const wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8').trim();
      const stack = readFileSync(`/proc/${pid}/task/${tid}/stack`, 'utf8').split('\n').slice(1, 4).map((l) => l.replace(/^\[<[^>]*>\] /, '').replace(/\+0x.*$/, ''));
      out.push(`${wchan}: ${stack.join(' < ')}`);
    } catch {
      // the thread went away between the listing and the read
    }
  }
  return out;
}

/** How many times the kernel's nbd timeout fired for `nbd` since boot. */
async function nbdTimeouts(nbd: string): Promise<number> {
  const { stdout } = await run('dmesg', []);
  return stdout.split('\n').filter((l) => l.includes(`${nbd}: Connection timed out`)).length;
}

export async function ejectWhileBackendHangs(w: World): Promise<Measures> {
  const i = await insert(w, 'disk', w.disk, { server: 'slow' });
  let stopped: number | undefined;
  let ejected = false;
  try {
    const read = readWholeDevice(`/dev/${i.device.name}`, READ_ERROR_BOUND_MS);
    await sleep(INTO_READ_MS);
    stopped = onlyProcess('nbdkit', i.socket);
    process.kill(stopped, 'SIGSTOP');
    await sleep(STALLED_MS);
    const daemonPid = await mainPid();
    const timeoutsBefore = await nbdTimeouts(i.slot.nbd);
    const detachesBefore = (await earlyDetaches(daemonPid, i.slot.id)).length;
    const t = Date.now();
    await i.medium.unmount();
    const completion = i.medium.nextCompletion(READ_ERROR_BOUND_MS);
    let blocked: string[] = [];
    const sampled = sleep(SAMPLE_AFTER_MS).then(() => (blocked = blockedThreads(daemonPid)));
    const c = await completion;
    ejected = true;
    await sampled;
    const ejectMs = Date.now() - t;
    if (c.errno !== 0) throw new Error(`Completion(${c.errno}) for the eject, expected 0`);
    if ((await nbdTimeouts(i.slot.nbd)) !== timeoutsBefore) throw new Error(`the eject waited for nbd's timeout on ${i.slot.nbd} instead of detaching it (read-only medium)`);
    // The journal may lag a little behind the daemon.
    const detached = await waitFor(`the daemon to log that it detached ${i.slot.nbd} early`, 10_000, async () => {
      const lines = (await earlyDetaches(daemonPid, i.slot.id)).slice(detachesBefore);
      return lines.length ? lines : undefined;
    }, 500);
    if (detached.length !== 1) throw new Error(`the daemon logged ${detached.length} early detaches of ${i.slot.nbd} for this eject, expected 1`);
    if ((await i.medium.process.get('Active')) !== false) throw new Error('Process.Active still true after the eject');
    const outcome = await read.done;
    if (outcome.hung) throw new Error(`the host's read still hung ${outcome.ms} ms after the eject`);
    await waitClean(i.slot.nbd, i.socket);
    if (usbDeviceOf(i.slot.id)) throw new Error(`the USB device of ${i.slot.id} is still there`);
    const left = processes('nbdkit', i.socket);
    if (left.length) throw new Error(`the stopped nbdkit (${left.map((p) => p.pid).join(', ')}) outlived the eject`);
    stopped = undefined;
    await i.medium.close();
    const nextMountMs = await nextMountWorks(w);
    return { ejectMs, blockedThreadsAfter1500ms: blocked, readError: outcome.error, nextMountMs };
  } finally {
    if (stopped) killQuietly(stopped);
    if (!ejected) await eject(i).catch(() => undefined);
  }
}
