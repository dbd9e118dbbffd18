// The daemon's HTTPS streaming (its nbdkit arguments for the installed
// nbdkit, 8 MiB kernel requests) vs the bare curl plugin driven by the nbd
// driver's defaults (128 KiB requests), streaming an 8 MiB HTTPS image twice
// from a server that delays every request by 15 ms
// (test/daemon/support/filter-stream.ts). Alternating, median of the rounds.
// Target: at most half the time (test/daemon/nbdkit-filters.test.ts counts
// the requests instead).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../codegen/runtime/index.js';
import { probeNbdkit } from '../daemon/src/seams/nbdkit-probe.js';
import { streamThroughFilters, streamVariants } from '../test/daemon/support/filter-stream.js';
import { median, type Row } from './row.js';

const ROUNDS = Number(process.env.BENCH_NBDKIT_ROUNDS ?? 3);
const DELAY_MS = 15;

export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nbdkit-'));
  try {
    const variants = streamVariants(await probeNbdkit('nbdkit', silentLogger));
    const bareVariant = variants[0]!;
    const daemonVariant = variants.at(-1)!;
    const bare: number[] = [];
    const tuned: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push((await streamThroughFilters(dir, bareVariant, DELAY_MS)).ms);
      tuned.push((await streamThroughFilters(dir, daemonVariant, DELAY_MS)).ms);
    }
    const b = median(bare);
    const t = median(tuned);
    return [
      { name: `nbdkit: 2 x 8 MiB over HTTPS (${DELAY_MS} ms/request), ${bareVariant.label}`, value: b, unit: 'ms' },
      { name: `nbdkit: same, ${daemonVariant.label}`, value: t, unit: 'ms', baseline: b, ratio: t / b, target: '<= 0.5x', pass: t / b <= 0.5 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
