// CPU accounting for bench/nbd.ts: who spends the CPU of a proxy-mode read.
// CPU seconds are steadier than wall time on a shared machine, and show the
// bottleneck: a process that needs about one core-second per second of the
// copy cannot go faster, however fast the others are.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Fields of /proc/<pid>/stat after the command name (field 3 onwards). */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) a live process has used so far. */
export function processCpu(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** CPU seconds of this process's children that have been reaped (cutime + cstime). */
export function reapedChildrenCpu(): number {
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

/** CPU seconds of this process (the bench: the fake bmcweb relay runs in it). */
export function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
