// The daemon's default nbdkit filters vs the bare curl plugin, streaming an
// 8 MiB HTTPS image twice in 128 KiB reads from a server that delays every
// request by 15 ms (test/daemon/support/filter-stream.ts). The two run
// alternately, median of the rounds. Target: the defaults take at most half
// the time (the test, test/daemon/nbdkit-filters.test.ts, counts requests).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILTER_VARIANTS, streamThroughFilters } from '../test/daemon/support/filter-stream.js';
import { median, type Row } from './row.js';

const ROUNDS = Number(process.env.BENCH_NBDKIT_ROUNDS ?? 3);
const DELAY_MS = 15;

export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nbdkit-'));
  try {
    const [bareFilters, bareParams] = FILTER_VARIANTS[0]!;
    const [tunedFilters, tunedParams] = FILTER_VARIANTS.at(-1)!;
    const bare: number[] = [];
    const tuned: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push((await streamThroughFilters(dir, bareFilters, bareParams, DELAY_MS)).ms);
      tuned.push((await streamThroughFilters(dir, tunedFilters, tunedParams, DELAY_MS)).ms);
    }
    const b = median(bare);
    const t = median(tuned);
    return [
      { name: `nbdkit: 2 x 8 MiB over HTTPS (${DELAY_MS} ms/request), bare curl plugin`, value: b, unit: 'ms' },
      { name: 'nbdkit: same, the daemon\'s default filters', value: t, unit: 'ms', baseline: b, ratio: t / b, target: '<= 0.5x', pass: t / b <= 0.5 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
