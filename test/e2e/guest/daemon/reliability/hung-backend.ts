// Unmount while the host's read waits on a backend that has stopped
// answering (nbdkit stopped with SIGSTOP: alive, its socket open, nothing
// coming back). The eject must still end with Completion(0), leave nothing
// behind, and the next Mount must work. While it waits, the daemon's threads
// blocked in the kernel are sampled: each holds one of libuv's workers (the
// reason for UV_THREADPOOL_SIZE in the unit), and the eject lasts until
// nbd's timeout fails the read the gadget is serving.
import { readdirSync, readFileSync } from 'node:fs';
import { processes, sleep, waitClean } from '../kernel-view.js';
import type { Measures } from '../scenarios.js';
import { READ_ERROR_BOUND_MS, nextMountWorks } from './crashes.js';
import { readWholeDevice, usbDeviceOf } from './host-side.js';
import { eject, insert } from './media.js';
import { mainPid } from './unit.js';
import type { World } from './world.js';

/** How long into the read the server stops, and how long the read then waits before the Unmount. */
const INTO_READ_MS = 1500;
const STALLED_MS = 2000;
/** When the daemon's blocked threads are sampled, after the Unmount. */
const SAMPLE_AFTER_MS = 3000;

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

export async function ejectWhileBackendHangs(w: World): Promise<Measures> {
  const i = await insert(w, 'disk', w.disk, { server: 'slow' });
  let stopped: number | undefined;
  let ejected = false;
  try {
    const read = readWholeDevice(`/dev/${i.device.name}`, READ_ERROR_BOUND_MS);
    await sleep(INTO_READ_MS);
    const servers = processes('nbdkit', i.socket);
    if (servers.length !== 1) throw new Error(`expected one nbdkit for ${i.slot.id}, found ${servers.length}`);
    stopped = servers[0]!.pid;
    process.kill(stopped, 'SIGSTOP');
    await sleep(STALLED_MS);
    const daemonPid = await mainPid();
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
    return { ejectMs, blockedThreadsAfter3s: blocked, readError: outcome.error, nextMountMs };
  } finally {
    if (stopped) {
      try {
        process.kill(stopped, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!ejected) await eject(i).catch(() => undefined);
  }
}
