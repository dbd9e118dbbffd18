// Why the daemon puts readahead and cache in front of nbdkit's curl plugin:
// over a link with a round-trip delay, each of the host's small sequential
// reads costs an HTTP request. The test counts the requests and the bytes
// fetched (behaviour); how much time that saves is measured by
// `npm run bench` (bench/nbdkit.ts), not asserted here.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommand } from '../support/require-command.js';
import { FILTER_IMAGE_BYTES, FILTER_VARIANTS, streamThroughFilters, type FilterRun } from './support/filter-stream.js';

/** Small: the test counts requests, the delay only makes the server behave like a remote one. */
const DELAY_MS = 2;

describe('daemon: nbdkit streaming filters over a slow link', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    requireCommand('nbdkit', 'nbdkit');
    requireCommand('nbdcopy', 'libnbd-bin');
    dir = mkdtempSync(join(tmpdir(), 'vmd-filt-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the default (cache on read, 1 MiB blocks) needs far fewer HTTP requests than the bare curl plugin, and reads the image once', async () => {
    const results: FilterRun[] = [];
    for (const [filters, params] of FILTER_VARIANTS) results.push(await streamThroughFilters(dir, filters, params, DELAY_MS));
    for (const m of results) {
      console.log(`      ${m.filters.padEnd(82)} ${String(m.requests).padStart(4)} HTTP GETs  ${m.megabytesFetched.toFixed(1)} MiB fetched`);
    }
    const bare = results[0]!;
    const tuned = results.at(-1)!;
    // 2 passes of 8 MiB in 128 KiB reads: the bare plugin asks once per read (128).
    assert.ok(bare.requests >= 2 * (FILTER_IMAGE_BYTES / 131072), `the bare plugin fetches per read (${bare.requests} GETs)`);
    assert.ok(tuned.requests * 4 <= bare.requests, `far fewer HTTP requests with the filters (${tuned.requests} vs ${bare.requests})`);
    assert.ok(tuned.megabytesFetched <= (FILTER_IMAGE_BYTES / 1048576) * 1.1, `the second pass comes from the cache (${tuned.megabytesFetched.toFixed(1)} MiB fetched)`);
  });
});
