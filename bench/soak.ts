// `npm run soak`: the long soak of the shipped daemon in the e2e VM: 300
// insert -> read (sha256) -> eject cycles rotating through four mount points
// (HTTPS disk, HTTPS CD-ROM, SMB, proxy) on four UDCs, with the leak ledger
// taken before and after (test/e2e/guest/daemon/reliability/soak.ts). CI
// runs the same scenario with 8 cycles (test/e2e/reliability.test.ts).
// Prints the ledger; exits 1 when the soak or the ledger fails.
//   SOAK_CYCLES=300 SOAK_RSS_ALLOWANCE_KIB=8192 SOAK_HEAP_ALLOWANCE_KIB=2048 npx tsx bench/soak.ts
// SOAK_DAEMON_ENV="MALLOC_ARENA_MAX=2" adds environment to the daemon's unit
// (a runtime drop-in) to compare memory settings against the unit as shipped.
// SOAK_HEAP_CENSUS=1 takes heap snapshots after the warm-up and at the end
// and prints what grew, by kind of object.
import { rmSync } from 'node:fs';
import { verboseConsole } from '../test/e2e/vm/guest-scripts.js';
import { runInVm } from '../test/e2e/vm/run-in-vm.js';
import { prepareShippedBoot } from '../test/e2e/vm/shipped-daemon.js';

const cycles = Number(process.env.SOAK_CYCLES ?? 300);
const rssAllowanceKiB = Number(process.env.SOAK_RSS_ALLOWANCE_KIB ?? 8192);
const heapAllowanceKiB = Number(process.env.SOAK_HEAP_ALLOWANCE_KIB ?? 2048);

async function main(): Promise<number> {
  if (!Number.isInteger(cycles) || cycles < 1) throw new Error(`SOAK_CYCLES must be a positive integer, not ${process.env.SOAK_CYCLES}`);
  const shipped = await prepareShippedBoot('soak-shipped-');
  try {
    process.stdout.write(`soak: ${cycles} cycles in the VM (progress every 25 cycles)\n`);
    const progress = verboseConsole('soak');
    const run = await runInVm({
      installRoot: shipped.root,
      script: 'exec bash "$E2E_GUEST_DIR/reliability-scenarios.sh"\n',
      // About 5 s a cycle under TCG on a quiet machine; generous for a loaded one.
      timeoutMs: Math.max(1_200_000, cycles * 30_000),
      memoryMiB: 1536,
      replaceModules: { usb_f_mass_storage: shipped.ko },
      onLine: (line) => {
        if (progress) progress(line);
        else if (line.startsWith('E2E-SOAK') || line.startsWith('E2E-RELIABILITY')) process.stdout.write(`  ${line}\n`);
      },
      env: { E2E_RELIABILITY_SCENARIOS: 'reliability-soak', E2E_SOAK_CYCLES: String(cycles), E2E_SOAK_RSS_ALLOWANCE_KIB: String(rssAllowanceKiB), E2E_SOAK_HEAP_ALLOWANCE_KIB: String(heapAllowanceKiB), ...(process.env.SOAK_DAEMON_ENV ? { E2E_SOAK_DAEMON_ENV: process.env.SOAK_DAEMON_ENV } : {}), ...(process.env.SOAK_HEAP_CENSUS === '1' ? { E2E_SOAK_HEAP_CENSUS: '1' } : {}) },
    });
    const r = run.results.find((x) => x.scenario === 'reliability-soak');
    if (!r) throw new Error(`no soak result; console tail:\n${run.console.split('\n').slice(-30).join('\n')}`);
    if (r.pass !== true) {
      process.stdout.write(`soak FAILED: ${r.reason}\n`);
      return 1;
    }
    const { start, end } = r.ledger as { start: Record<string, unknown>; end: Record<string, unknown> };
    const rows = Object.keys(start).map((k) => [k, JSON.stringify(start[k]), JSON.stringify(end[k])]);
    const width = (i: number) => Math.max(...rows.map((row) => row[i]!.length), 12);
    process.stdout.write(`\nleak ledger after ${String(r.cycles)} cycles (${Math.round(Number(r.soakMs) / 1000)} s, median cycle ${String(r.cycleMsMedian)} ms, slowest ${String(r.cycleMsMax)} ms):\n`);
    process.stdout.write(`  ${'entry'.padEnd(width(0))}  ${'start'.padEnd(width(1))}  end\n`);
    for (const [k, a, b] of rows) process.stdout.write(`  ${k!.padEnd(width(0))}  ${a!.padEnd(width(1))}  ${b}${k === 'daemonPid' || a === b ? '' : k === 'daemonRssAnonKiB' ? `  (allowance +${rssAllowanceKiB})` : k === 'daemonRssKiB' ? '  (information)' : '  CHANGED'}\n`);
    process.stdout.write(`  daemon RSS every 25 cycles (KiB): ${JSON.stringify(r.rssSamplesKiB)}; anonymous ${JSON.stringify(r.rssAnonSamplesKiB)}; mapped files ${JSON.stringify(r.rssFileSamplesKiB)}; shared memory ${JSON.stringify(r.rssShmemSamplesKiB)}\n`);
    const heap = r as { heapStart: { heapUsedKiB: number }; heapEnd: { heapUsedKiB: number }; heapSamples: Array<{ heapUsedKiB: number }> };
    process.stdout.write(`  live heap after GC (KiB): ${heap.heapStart.heapUsedKiB} -> ${heap.heapEnd.heapUsedKiB} (allowance +${heapAllowanceKiB}); every 25 cycles ${JSON.stringify(heap.heapSamples.map((h) => h.heapUsedKiB))}\n`);
    const heapSamples = heap.heapSamples.map((h) => h.heapUsedKiB);
    const anonSamples = r.rssAnonSamplesKiB as number[];
    process.stdout.write(`  growth per 100 cycles, first half of the samples -> second half: live heap ${halves(heapSamples)}; anonymous RSS ${halves(anonSamples)} (a leak per cycle grows as much in both halves; warming up slows down)\n`);
    return 0;
  } finally {
    rmSync(shipped.installDir, { recursive: true, force: true });
  }
}

/** Growth per 100 cycles over the first and the second half of samples taken every 25 cycles, in KiB. */
function halves(samples: number[]): string {
  if (samples.length < 3) return 'too few samples (under 75 cycles)';
  const mid = Math.floor((samples.length - 1) / 2);
  const last = samples.length - 1;
  const per100 = (from: number, to: number) => Math.round(((samples[to]! - samples[from]!) * 4) / (to - from));
  return `${per100(0, mid)} -> ${per100(mid, last)} KiB`;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`soak: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
