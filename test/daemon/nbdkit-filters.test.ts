// Why the daemon puts readahead and cache in front of nbdkit's curl plugin:
// over a link with a round-trip delay, the host's small sequential reads
// each cost an HTTP request. Measured here with the daemon's own nbdkit
// arguments (seams/nbdkit.ts), a local HTTPS server that delays every
// request, and nbdcopy reading the export the way a host reads an install
// image: sequentially in 128 KiB requests, then the start again (file system
// metadata is read more than once).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NBDKIT } from '../../daemon/src/config/defaults.js';
import { httpsArgs } from '../../daemon/src/seams/nbdkit.js';
import { silentLogger } from '../../codegen/runtime/index.js';
import { requireCommand } from '../support/require-command.js';
import { eventually } from './support/daemon-process.js';
import { diskImage } from './support/images.js';
import { makePki, startImageServer } from './support/tls-server.js';

const IMAGE_BYTES = 8 * 1024 * 1024;
const DELAY_MS = 15;

interface Measurement {
  filters: string;
  ms: number;
  requests: number;
  megabytesFetched: number;
}

describe('daemon: nbdkit streaming filters over a slow link', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    requireCommand('nbdkit', 'nbdkit');
    requireCommand('nbdcopy', 'libnbd-bin');
    dir = mkdtempSync(join(tmpdir(), 'vmd-filt-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function measure(filters: string[], params: string[]): Promise<Measurement> {
    const pki = makePki(dir, `f${Math.random().toString(36).slice(2, 8)}`);
    const image = diskImage(join(dir, 'img'), IMAGE_BYTES);
    const server = await startImageServer(pki, { '/img': image }, undefined, DELAY_MS);
    const socket = join(dir, `s${Math.random().toString(36).slice(2, 8)}.sock`);
    const pidFile = `${socket}.pid`;
    const args = httpsArgs(
      { command: 'nbdkit', socket, pidFile, readOnly: true, log: silentLogger },
      { url: server.url('/img'), user: undefined, password: undefined, caFile: pki.caFile, caPath: undefined, filters, filterParams: params, timeoutSeconds: 30 },
    );
    const nbdkit = spawn('nbdkit', args, { stdio: 'ignore' });
    try {
      await eventually('nbdkit ready', () => existsSync(pidFile), 10_000);
      const uri = `nbd+unix:///?socket=${socket}`;
      const started = performance.now();
      // Asynchronously: the HTTPS server runs in this process.
      const read = () => promisify(execFile)('nbdcopy', ['--request-size=131072', '--requests=1', '--connections=1', uri, 'null:']);
      await read();
      await read();
      const ms = performance.now() - started;
      return { filters: [...filters, ...params].join(' ') || 'none (bare curl plugin)', ms, requests: server.requests.filter((r) => r.method === 'GET').length, megabytesFetched: server.bytesSent / 1048576 };
    } finally {
      nbdkit.kill('SIGTERM');
      await new Promise((r) => nbdkit.once('exit', r));
      await server.close();
    }
  }

  it('the default (cache on read, 1 MiB blocks) beats the bare curl plugin', async () => {
    const variants: [string[], string[]][] = [
      [[], []],
      [['cache'], ['cache-on-read=true']],
      [['cache'], ['cache-on-read=true', 'cache-min-block-size=1M']],
      [[...DEFAULT_NBDKIT.httpsFilters], [...DEFAULT_NBDKIT.httpsFilterParams]],
    ];
    const results: Measurement[] = [];
    for (const [filters, params] of variants) results.push(await measure(filters, params));
    for (const m of results) {
      console.log(`      ${m.filters.padEnd(82)} ${m.ms.toFixed(0).padStart(6)} ms  ${String(m.requests).padStart(4)} HTTP GETs  ${m.megabytesFetched.toFixed(1)} MiB fetched`);
    }
    const bare = results[0]!;
    const tuned = results.at(-1)!;
    assert.ok(tuned.requests * 4 <= bare.requests, `far fewer HTTP requests with the filters (${tuned.requests} vs ${bare.requests})`);
    assert.ok(tuned.ms < bare.ms * 0.5, `the filters should at least halve the time (${tuned.ms.toFixed(0)} vs ${bare.ms.toFixed(0)} ms)`);
    assert.ok(tuned.megabytesFetched <= (IMAGE_BYTES / 1048576) * 1.1, 'the second pass comes from the cache');
  });
});
