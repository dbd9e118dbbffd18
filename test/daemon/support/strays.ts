// After a test: kill every process still working on the test's temp tree
// (its path in their argv) and every pid a hanging fixture recorded there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function killStrays(root: string): void {
  const pids = new Set<number>();
  for (const entry of safeList('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(root)) pids.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  for (const file of [join(root, 'hang-pids'), ...safeList(join(root, 'run')).filter((f) => f.endsWith('.hang-pids')).map((f) => join(root, 'run', f))]) {
    try {
      // Only while the pid is still a fixture's (pids get reused).
      for (const line of readFileSync(file, 'utf8').split('\n')) if (/^\d+$/.test(line) && isFixture(Number(line))) pids.add(Number(line));
    } catch {
      // no hanging fixture in this test
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function isFixture(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return argv.includes('/fixtures/') || argv.includes('setInterval');
  } catch {
    return false;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
