// Streams an HTTPS image through nbdkit's curl plugin with the daemon's own
// nbdkit arguments (seams/nbdkit.ts) and a given set of filters, from a local
// HTTPS server that delays every request, the way a host reads an install
// image: sequentially in 128 KiB requests, then the start again (file system
// metadata is read more than once). Used by the filter test (it counts HTTP
// requests) and by bench/nbdkit.ts (it times the reads).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_NBDKIT } from '../../../daemon/src/config/defaults.js';
import { httpsArgs } from '../../../daemon/src/seams/nbdkit.js';
import { silentLogger } from '../../../codegen/runtime/index.js';
import { eventually } from './daemon-process.js';
import { diskImage } from './images.js';
import { makePki, startImageServer } from './tls-server.js';

export const FILTER_IMAGE_BYTES = 8 * 1024 * 1024;

export interface FilterRun {
  filters: string;
  ms: number;
  requests: number;
  megabytesFetched: number;
}

/** The bare curl plugin first, the daemon's defaults last. */
export const FILTER_VARIANTS: readonly (readonly [string[], string[]])[] = [
  [[], []],
  [['cache'], ['cache-on-read=true']],
  [['cache'], ['cache-on-read=true', 'cache-min-block-size=1M']],
  [[...DEFAULT_NBDKIT.httpsFilters], [...DEFAULT_NBDKIT.httpsFilterParams]],
];

/** Two whole reads of an 8 MiB image through nbdkit with these filters; every HTTP request delayed by delayMs. */
export async function streamThroughFilters(dir: string, filters: string[], params: string[], delayMs: number): Promise<FilterRun> {
  const tag = Math.random().toString(36).slice(2, 8);
  const pki = makePki(dir, `f${tag}`);
  const image = diskImage(join(dir, `img-${tag}`), FILTER_IMAGE_BYTES);
  const server = await startImageServer(pki, { '/img': image }, undefined, delayMs);
  const socket = join(dir, `s${tag}.sock`);
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
    return {
      filters: [...filters, ...params].join(' ') || 'none (bare curl plugin)',
      ms,
      requests: server.requests.filter((r) => r.method === 'GET').length,
      megabytesFetched: server.bytesSent / 1048576,
    };
  } finally {
    nbdkit.kill('SIGTERM');
    await new Promise((r) => nbdkit.once('exit', r));
    await server.close();
  }
}
