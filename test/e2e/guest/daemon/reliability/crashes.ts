// Crashes. kill -9 of the daemon while it inserts, while the host reads and
// while it ejects: systemd (the layer's Restart=on-failure) starts it again,
// its start-up cleanup removes what the dead one left (gadget, nbd
// attachment, nbdkit, CIFS mount), the objects say ready and the next Mount
// works. kill -9 of nbdkit, nbd-client and smbd while the host reads: the
// host's read ends with an I/O error (bounded: no hang), Completion and
// ExitCode say what happened, and the next Mount works.
import { processes, gadgets, leftovers, sleep, waitClean } from '../kernel-view.js';
import { Medium } from '../media-client.js';
import { startSamba } from '../smb.js';
import { cifsServes } from './cifs-ready.js';
import type { Measures } from '../scenarios.js';
import { cifsMountsAnywhere, readWholeDevice, sha256Prefix, usbDeviceOf, type ReadOutcome } from './host-side.js';
import { eject, insert, type Inserted } from './media.js';
import { earlyDetaches, journalOf, mainPid, restarts, unitProperties } from './unit.js';
import type { World } from './world.js';
import * as rt from '../../../../../codegen/runtime/index.js';
import { ROOT, SERVICE } from '../media-client.js';
import { waitFor } from '../kernel-view.js';

/** How long a host read may take to fail once its medium's server is gone; past it, the read is a hang. */
export const READ_ERROR_BOUND_MS = 180_000;
/** How long into a whole-disk read (slow server) a process is killed. */
const INTO_READ_MS = 1500;

export function assertReadFailed(what: string, r: ReadOutcome): void {
  if (r.hung) throw new Error(`${what}: the host's read still hung after ${r.ms} ms (no I/O error)`);
  if (r.code === 0) throw new Error(`${what}: the host's read finished without an error: the kill came too late`);
}

/** After a restart: the objects of `slotId` say ready, nothing of it is left, and the daemon logged its cleanup. */
export async function checkRecovered(w: World, kind: 'Legacy' | 'Proxy', slotId: string, nbd: string, socket: string, newPid: number): Promise<string[]> {
  const m = await Medium.open(w.connection, kind, slotId);
  try {
    if ((await m.process.get('Active')) !== false) throw new Error(`${slotId}: Process.Active is true after the restart`);
    if ((await m.mountPoint.get('ImageURL')) !== '') throw new Error(`${slotId}: ImageURL is set after the restart`);
  } finally {
    await m.close();
  }
  await waitClean(nbd, socket);
  // The journal may lag a little behind the process.
  return waitFor('the restarted daemon to log that it serves', 10_000, async () => {
    const lines = await journalOf(newPid);
    return lines.some((l) => l.includes('serving')) ? lines.filter((l) => / by a previous run/.test(l)) : undefined;
  }, 500);
}

/** The next Mount after a fault: the whole disk reads back. */
export async function nextMountWorks(w: World, kind: 'disk' | 'smb' = 'disk'): Promise<number> {
  const t = Date.now();
  const i = await insert(w, kind, kind === 'smb' ? w.share.small : w.small);
  try {
    const got = await sha256Prefix(`/dev/${i.device.name}`, i.image.bytes);
    if (got !== i.image.sha256) throw new Error(`the Mount after the fault reads sha256 ${got}, the image ${i.image.sha256}`);
  } finally {
    await eject(i);
  }
  return Date.now() - t;
}

/** The main PID of the daemon systemd started again after `oldPid` was killed, once it serves its four objects. */
export async function restarted(w: World, oldPid: number, restartsBefore: number): Promise<number> {
  const pid = await waitFor('systemd to restart the daemon after kill -9', 90_000, async () => {
    const p = await unitProperties('MainPID', 'ActiveState', 'NRestarts');
    const pid = Number(p.MainPID);
    return p.ActiveState === 'active' && pid > 0 && pid !== oldPid && Number(p.NRestarts) > restartsBefore ? pid : undefined;
  }, 250);
  const objects = await rt.getManagedObjects(w.connection, SERVICE, ROOT, { timeoutMs: 20_000 });
  if (objects.size !== 4) throw new Error(`the restarted daemon serves ${objects.size} objects, expected 4`);
  return pid;
}

export type CrashMoment = 'inserting' | 'reading' | 'ejecting';

export async function daemonCrash(w: World, when: CrashMoment): Promise<Measures> {
  const slot = when === 'ejecting' ? w.slots.smb : w.slots.disk;
  const oldPid = await mainPid();
  const restartsBefore = await restarts();
  let read: ReturnType<typeof readWholeDevice> | undefined;
  let inserted: Inserted | undefined;
  let medium: Medium | undefined;
  let socket = '';
  let killedAt = 0;
  try {
    if (when === 'inserting') {
      medium = await Medium.open(w.connection, 'Legacy', slot.id);
      socket = await medium.mountPoint.get('Socket');
      await medium.mountLegacy(`https://localhost:${w.servers.open.port}/${w.disk.name}`, false);
      // The moment the gadget directory appears: the insertion's last step,
      // before the bind and Completion. Polled every millisecond, never
      // synchronously: this process's HTTPS server feeds the insertion.
      await waitFor('the gadget of the insertion to appear', 60_000, () => {
        if (medium!.pendingCompletions) throw new Error('the insertion ended before its gadget was seen');
        return gadgets().length > 0;
      }, 1);
    } else {
      // Ejecting an SMB medium: the crash then also leaves a CIFS mount behind.
      inserted = when === 'reading' ? await insert(w, 'disk', w.disk, { server: 'slow' }) : await insert(w, 'smb', w.share.small);
      socket = inserted.socket;
      if (when === 'reading') {
        read = readWholeDevice(`/dev/${inserted.device.name}`, READ_ERROR_BOUND_MS);
        await sleep(INTO_READ_MS);
      } else if ((await inserted.medium.unmount()) !== true) throw new Error('Unmount returned false');
    }
    killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');
  } finally {
    await medium?.close();
    await inserted?.medium.close();
  }
  const leftAtKill = leftovers(slot.nbd, socket);
  if (when === 'ejecting') leftAtKill.push(`CIFS mounts: ${cifsMountsAnywhere()}`);
  const newPid = await restarted(w, oldPid, restartsBefore);
  const restartedMs = Date.now() - killedAt;
  // Checked once the service is back, so that a failure leaves it serving for the next scenario.
  if (when === 'inserting') {
    const oldLog = await journalOf(oldPid);
    const last = oldLog.map((l) => l.includes(': inserting ')).lastIndexOf(true);
    if (last < 0 || oldLog.slice(last).some((l) => l.includes(': inserted as '))) throw new Error('the insertion had finished before the kill');
  }
  const readOutcome = read ? await read.done : undefined;
  if (readOutcome) assertReadFailed('kill -9 of the daemon', readOutcome);
  const cleanup = await checkRecovered(w, 'Legacy', slot.id, slot.nbd, socket, newPid);
  if (when === 'ejecting') await waitFor('no CIFS mount left anywhere (/proc/fs/cifs/DebugData)', 20_000, () => cifsMountsAnywhere() === 0, 500);
  const nextMountMs = await nextMountWorks(w, when === 'ejecting' ? 'smb' : 'disk');
  return {
    restartedMs,
    leftAtKill,
    cleanup,
    nRestarts: (await restarts()) - restartsBefore,
    ...(readOutcome ? { readErrorMs: readOutcome.ms - (killedAt - read!.startedAt), readError: readOutcome.error } : {}),
    nextMountMs,
  };
}

/** kill -9 of one of the medium's processes while the host reads it. */
export async function childKill(w: World, victim: 'nbdkit' | 'nbd-client' | 'smbd'): Promise<Measures> {
  const kind = victim === 'smbd' ? 'smb' : 'disk';
  // The SMB medium is writable: its eject must wait for the backend instead of detaching early.
  const i = await insert(w, kind, victim === 'smbd' ? w.share.rw : w.disk, { server: 'slow', readWrite: victim === 'smbd' });
  let ejected = false;
  try {
    const read = readWholeDevice(`/dev/${i.device.name}`, READ_ERROR_BOUND_MS);
    await sleep(victim === 'smbd' ? 300 : INTO_READ_MS);
    const targets = victim === 'nbdkit' ? processes('nbdkit', i.socket) : victim === 'nbd-client' ? processes('nbd-client', `/dev/${i.slot.nbd}`) : processes('smbd');
    if (targets.length === 0) throw new Error(`no ${victim} process to kill`);
    if (victim !== 'smbd' && targets.length !== 1) throw new Error(`expected one ${victim} for ${i.slot.id}, found ${targets.length}`);
    const killedAt = Date.now();
    for (const t of targets) process.kill(t.pid, 'SIGKILL');
    const outcome = await read.done;
    assertReadFailed(`kill -9 of ${victim}`, outcome);
    const readErrorMs = outcome.ms - (killedAt - read.startedAt);
    let completion: { errno: number; at: number } | undefined;
    let exitCode: number;
    let unmount: string | undefined;
    if (victim === 'smbd') {
      // smbd is not the daemon's child. CIFS retries the dead server until
      // nbd-client's Timeout passes; the kernel then drops the NBD connection,
      // nbd-client ends and the daemon ejects the medium itself (ECONNREFUSED).
      // Whichever comes first, that or an Unmount now, the medium must go.
      unmount = await i.medium.unmount().then(
        () => 'accepted',
        (e: Error) => `refused (${e.name}): ejecting itself`,
      );
      const c = await i.medium.nextCompletion(90_000);
      ejected = true;
      completion = { errno: c.errno, at: c.at - killedAt };
      exitCode = await i.medium.process.get('ExitCode');
      if ((await i.medium.process.get('Active')) !== false) throw new Error('Process.Active still true after the eject');
      // The medium is writable: its eject waits for the backend (the LUN's close flushes), never detaches early.
      const early = await earlyDetaches(await mainPid(), i.slot.id);
      if (early.length) throw new Error(`the daemon detached the writable ${i.slot.nbd} early: ${early[0]}`);
      await waitClean(i.slot.nbd, i.socket);
      w.smbd.process = await startSamba(w.share.dir);
      // The operator's next Mount comes once the server serves again, not
      // merely listens: the kernel may still be reconnecting its old session.
      if (!(await cifsServes(w.work, 10))) throw new Error('smbd, restarted, never served a CIFS session again');
    } else {
      const c = await i.medium.nextCompletion(60_000);
      ejected = true;
      completion = { errno: c.errno, at: c.at - killedAt };
      if (c.errno === 0) throw new Error(`Completion(0) after ${victim} was killed: expected an errno`);
      exitCode = await i.medium.process.get('ExitCode');
      if (exitCode !== -9) throw new Error(`Process.ExitCode is ${exitCode} after kill -9 of ${victim}, expected -9`);
      if ((await i.medium.process.get('Active')) !== false) throw new Error(`Process.Active still true after ${victim} died`);
      await waitClean(i.slot.nbd, i.socket);
    }
    if (usbDeviceOf(i.slot.id)) throw new Error(`the USB device of ${i.slot.id} is still there`);
    const nextMountMs = await nextMountWorks(w, kind);
    return { readErrorMs, readError: outcome.error, completionErrno: completion.errno, completionMs: completion.at, exitCode, ...(unmount ? { unmount } : {}), nextMountMs };
  } finally {
    if (!ejected) await eject(i).catch(() => undefined);
    else await i.medium.close();
  }
}
