// kill -9 of the daemon while the host's read waits on a backend that has
// stopped answering, in the order that leaves the read queued in the kernel:
// the connection dies and nbd-client dies with it before it can clear nbd's
// queue (NBD_CLEAR_SOCK after NBD_DO_IT returns). The read then waits for
// nbd's timeout, the stale gadget's unbind waits for the read, and the
// restarted daemon must still clean up at once and serve the next Mount.
//
// systemd's stop signals nbdkit and nbd-client together, so that order is a
// race there (a CI run lost it). Here it is pinned: both children are moved
// out of the unit's cgroup, the daemon dies first (closing nbd-client's
// stderr), then the stopped nbdkit. The scenario checks that it got the
// state it wants: the host's read still waiting when the daemon restarts.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { gadgets, killQuietly, leftovers, nbdSizeSectors, onlyProcess, processes, sleep, waitFor } from '../kernel-view.js';
import type { Measures } from '../scenarios.js';
import { READ_ERROR_BOUND_MS, assertReadFailed, checkRecovered, nextMountWorks, restarted } from './crashes.js';
import { readWholeDevice } from './host-side.js';
import { eject, insert } from './media.js';
import { mainPid, restarts } from './unit.js';
import type { World } from './world.js';

/** How long into the read the server stops, and how long the read then waits before the kills. */
const INTO_READ_MS = 1500;
const STALLED_MS = 2000;
/** A cgroup outside the unit's, where systemd's stop does not reach. */
const OUTSIDE_UNIT = '/sys/fs/cgroup/e2e-outside-unit';

/**
 * Reaped: every thread has exited, so its files (the pipes it read) are
 * closed. A zombie leader is not enough: its other threads (libuv's
 * workers, one maybe still in the kernel) keep the file table open.
 */
function reaped(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

export async function crashWhileBackendHangs(w: World): Promise<Measures> {
  const i = await insert(w, 'disk', w.disk, { server: 'slow' });
  const device = `/dev/${i.slot.nbd}`;
  const oldPid = await mainPid();
  const restartsBefore = await restarts();
  const moved: number[] = [];
  let killedAt = 0;
  let stopped: number | undefined;
  let read: ReturnType<typeof readWholeDevice>;
  try {
    read = readWholeDevice(`/dev/${i.device.name}`, READ_ERROR_BOUND_MS);
    await sleep(INTO_READ_MS);
    const server = onlyProcess('nbdkit', i.socket);
    const client = onlyProcess('nbd-client', device);
    stopped = server;
    process.kill(server, 'SIGSTOP');
    await sleep(STALLED_MS);
    mkdirSync(OUTSIDE_UNIT, { recursive: true });
    for (const pid of [server, client]) {
      writeFileSync(`${OUTSIDE_UNIT}/cgroup.procs`, `${pid}\n`);
      moved.push(pid);
    }
    killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');
    await waitFor('the killed daemon to be reaped', 10_000, () => reaped(oldPid), 5);
    process.kill(server, 'SIGKILL');
    await waitFor(`nbd-client for ${device} to die once its server is gone`, 10_000, () => processes('nbd-client', device).length === 0, 5);
  } finally {
    for (const pid of moved) killQuietly(pid);
    if (killedAt) await i.medium.close();
    else {
      // Failed before the crash: leave the daemon serving and the medium out for the next scenario.
      if (stopped) killQuietly(stopped);
      await eject(i).catch(() => undefined);
    }
  }
  const atRestart = leftovers(i.slot.nbd, i.socket);
  const readWaiting = await Promise.race([read.done.then(() => false), sleep(0).then(() => true)]);
  if (!readWaiting || !gadgets().length || nbdSizeSectors(i.slot.nbd) === 0) {
    throw new Error(`the scenario did not reach its state (a read queued in nbd with no nbd-client left): host read waiting ${readWaiting}, left: ${atRestart.join('; ') || 'nothing'}`);
  }
  const newPid = await restarted(w, oldPid, restartsBefore);
  const restartedMs = Date.now() - killedAt;
  const outcome = await read.done;
  assertReadFailed('kill -9 of the daemon with the backend hung', outcome);
  const cleanup = await checkRecovered(w, 'Legacy', i.slot.id, i.slot.nbd, i.socket, newPid);
  if (existsSync(OUTSIDE_UNIT)) rmdirSync(OUTSIDE_UNIT);
  const nextMountMs = await nextMountWorks(w);
  return { restartedMs, atRestart, cleanup, nRestarts: (await restarts()) - restartsBefore, readErrorMs: outcome.ms - (killedAt - read.startedAt), readError: outcome.error, nextMountMs };
}
