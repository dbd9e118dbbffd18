// The daemon's systemd unit, seen from outside: its main PID, restarts,
// cgroup, and what one run of it logged (crashes.ts kills the main process;
// the layer's Restart=on-failure must bring the service back).
import { readFileSync } from 'node:fs';
import { UNIT } from '../fixtures.js';
import { run } from '../kernel-view.js';

export async function unitProperties(...names: string[]): Promise<Record<string, string>> {
  const { stdout } = await run('systemctl', ['show', UNIT, ...names.map((p) => `--property=${p}`)]);
  return Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

export async function mainPid(): Promise<number> {
  const pid = Number((await unitProperties('MainPID')).MainPID);
  if (!(pid > 0)) throw new Error(`${UNIT} has no main process`);
  return pid;
}

export async function restarts(): Promise<number> {
  return Number((await unitProperties('NRestarts')).NRestarts);
}

/** PIDs in the unit's cgroup (the daemon and every child it has). */
export async function unitPids(): Promise<number[]> {
  const group = (await unitProperties('ControlGroup')).ControlGroup;
  if (!group) return [];
  return readFileSync(`/sys/fs/cgroup${group}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
}

/** What the daemon process `pid` logged (its journal lines, messages only). */
export async function journalOf(pid: number): Promise<string[]> {
  const { stdout } = await run('journalctl', ['--no-pager', '-o', 'cat', `_PID=${pid}`]);
  return stdout.split('\n').filter(Boolean);
}

/**
 * What the daemon `pid` logged when it detached a read-only medium's nbd
 * device because the gadget's removal waited on the backend (session.ts).
 */
export async function earlyDetaches(pid: number, slotId: string): Promise<string[]> {
  return (await journalOf(pid)).filter((l) => l.startsWith(`${slotId}: the USB gadget's removal still waits on the backend`));
}
