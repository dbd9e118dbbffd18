// The leak ledger: everything a mount point's insert -> read -> eject cycle
// acquires, counted from outside the daemon. Taken before and after a soak,
// every entry must be back where it started; RSS (V8's heap grows and
// shrinks with its collector) only within an allowance.
import { readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gadgets, processes, usbBlockDevices } from '../kernel-view.js';
import { mainPid, unitPids } from './unit.js';

/** The daemon's RuntimeDirectory (legacy sockets, pid files, CIFS mount points). */
const RUN_DIR = '/run/virtual-media';

export interface Ledger {
  daemonPid: number;
  daemonFds: number;
  daemonRssKiB: number;
  /** The anonymous part of RSS (heap, malloc): what a leak grows. The rest is mostly the node binary's code pages, faulted in as new paths run and dropped under memory pressure. */
  daemonRssAnonKiB: number;
  /** Processes in the unit's cgroup: the daemon and its children. */
  unitProcesses: number;
  nbdkitProcesses: number;
  nbdClientProcesses: number;
  configfsGadgets: string[];
  /** /sys/block/nbdN/pid exists while nbdN is attached. */
  nbdAttached: string[];
  usbBlockDevices: string[];
  /** CIFS mounts in the daemon's mount namespace (the unit's sandbox has its own). */
  cifsMounts: number;
  runFiles: string[];
  /** Files in the daemon's private /tmp and /var/tmp (nbdkit's cache filter keeps its cache in TMPDIR). */
  tmpFiles: string[];
  /** Space used in the daemon's private /var/tmp: also counts cache files deleted but still held open. */
  varTmpUsedKiB: number;
}

function listTree(dir: string, prefix = ''): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort()) {
    const path = join(dir, e);
    out.push(prefix + e);
    try {
      if (statSync(path).isDirectory()) out.push(...listTree(path, `${prefix}${e}/`));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Where a process's RSS is (/proc/PID/status): anonymous memory (heap, malloc), pages of mapped files (the node binary's code as new paths run), shared memory. */
export interface RssParts {
  totalKiB: number;
  anonKiB: number;
  fileKiB: number;
  shmemKiB: number;
}

export function rssParts(pid: number): RssParts {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { totalKiB: kib('VmRSS'), anonKiB: kib('RssAnon'), fileKiB: kib('RssFile'), shmemKiB: kib('RssShmem') };
}

export async function takeLedger(): Promise<Ledger> {
  const pid = await mainPid();
  const root = `/proc/${pid}/root`;
  const fs = statfsSync(`${root}/var/tmp`);
  const rss = rssParts(pid);
  return {
    daemonPid: pid,
    daemonFds: readdirSync(`/proc/${pid}/fd`).length,
    daemonRssKiB: rss.totalKiB,
    daemonRssAnonKiB: rss.anonKiB,
    unitProcesses: (await unitPids()).length,
    nbdkitProcesses: processes('nbdkit').filter((p) => p.argv.some((a) => a.startsWith('/run/virtual-media/'))).length,
    nbdClientProcesses: processes('nbd-client').length,
    configfsGadgets: gadgets(),
    nbdAttached: readdirSync('/sys/block').filter((b) => b.startsWith('nbd')).filter((b) => {
      try {
        statSync(`/sys/block/${b}/pid`);
        return true;
      } catch {
        return false;
      }
    }),
    usbBlockDevices: usbBlockDevices().map((d) => d.name),
    cifsMounts: readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter((l) => / - cifs /.test(l)).length,
    runFiles: listTree(RUN_DIR),
    tmpFiles: [...listTree(`${root}/tmp`).map((f) => `/tmp/${f}`), ...listTree(`${root}/var/tmp`).map((f) => `/var/tmp/${f}`)],
    varTmpUsedKiB: Math.round(((fs.blocks - fs.bfree) * fs.bsize) / 1024),
  };
}

/**
 * The entries that differ between two ledgers (the daemon's pid must be the
 * same one: a restart would hide every leak); anonymous RSS may grow by
 * `rssAllowanceKiB`, total RSS is information.
 */
export function ledgerDifferences(start: Ledger, end: Ledger, rssAllowanceKiB: number): string[] {
  const out: string[] = [];
  for (const key of Object.keys(start) as (keyof Ledger)[]) {
    if (key === 'daemonRssKiB' || key === 'daemonRssAnonKiB') continue;
    const a = JSON.stringify(start[key]);
    const b = JSON.stringify(end[key]);
    if (a !== b) out.push(`${key}: ${a} -> ${b}`);
  }
  if (end.daemonRssAnonKiB - start.daemonRssAnonKiB > rssAllowanceKiB) out.push(`daemonRssAnonKiB: ${start.daemonRssAnonKiB} -> ${end.daemonRssAnonKiB} (more than +${rssAllowanceKiB} KiB)`);
  return out;
}
