// Streams an HTTPS image through nbdkit's curl plugin with the daemon's own
// nbdkit arguments (seams/nbdkit.ts) from a local HTTPS server that delays
// every request, reading it the way the kernel asks the NBD server:
// sequentially in requests of a given size (128 KiB is the nbd driver's
// default max_sectors_kb, the daemon raises it: BlockDevice.MaxRequestKiB),
// then the start again. Used by the streaming test (it counts HTTP requests)
// and by bench/nbdkit.ts (it times the reads).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BLOCK_DEVICE, DEFAULT_NBDKIT } from '../../../daemon/src/config/defaults.js';
import { httpsStreaming, type HttpsStreaming } from '../../../daemon/src/media/https-streaming.js';
import type { NbdkitFeatures } from '../../../daemon/src/seams/nbdkit-probe.js';
import { httpsArgs } from '../../../daemon/src/seams/nbdkit.js';
import { silentLogger } from '../../../codegen/runtime/index.js';
import { eventually } from './daemon-process.js';
import { diskImage } from './images.js';
import { makePki, startImageServer } from './tls-server.js';

export const FILTER_IMAGE_BYTES = 8 * 1024 * 1024;

export interface StreamVariant {
  readonly label: string;
  readonly streaming: HttpsStreaming;
  /** Bytes per NBD read, as the kernel would send them. */
  readonly requestBytes: number;
}

export interface FilterRun {
  label: string;
  ms: number;
  requests: number;
  megabytesFetched: number;
}

const KERNEL_DEFAULT_REQUEST = 128 * 1024;
const plain = (filters: string[], filterParams: string[]): HttpsStreaming => ({ filters, pluginParams: ['timeout=30'], filterParams, notes: [] });

/** The bare curl plugin as the kernel's defaults drive it, the previous default, and the daemon's choice for the installed nbdkit. */
export function streamVariants(features: NbdkitFeatures): StreamVariant[] {
  const daemon = httpsStreaming(features, {
    cacheMiB: DEFAULT_NBDKIT.cacheMiB,
    httpConnections: DEFAULT_NBDKIT.httpConnections,
    httpTimeout: DEFAULT_NBDKIT.httpTimeout,
    maxRequestKiB: DEFAULT_BLOCK_DEVICE.maxRequestKiB,
    explicit: undefined,
  });
  return [
    { label: 'bare curl plugin, 128 KiB requests (nbd defaults)', streaming: plain([], []), requestBytes: KERNEL_DEFAULT_REQUEST },
    {
      label: 'previous default: readahead + cache 1 MiB blocks, 128 KiB requests',
      streaming: plain(['readahead', 'cache'], ['cache-on-read=true', 'cache-min-block-size=1M', 'cache-max-size=32M']),
      requestBytes: KERNEL_DEFAULT_REQUEST,
    },
    { label: `the daemon's default, ${DEFAULT_BLOCK_DEVICE.maxRequestKiB} KiB requests`, streaming: daemon, requestBytes: DEFAULT_BLOCK_DEVICE.maxRequestKiB * 1024 },
  ];
}

/** Two whole reads of an 8 MiB image through nbdkit; every HTTP request delayed by delayMs. */
export async function streamThroughFilters(dir: string, variant: StreamVariant, delayMs: number): Promise<FilterRun> {
  const tag = Math.random().toString(36).slice(2, 8);
  const pki = makePki(dir, `f${tag}`);
  const image = diskImage(join(dir, `img-${tag}`), FILTER_IMAGE_BYTES);
  const server = await startImageServer(pki, { '/img': image }, undefined, delayMs);
  const socket = join(dir, `s${tag}.sock`);
  const pidFile = `${socket}.pid`;
  const args = httpsArgs(
    { command: 'nbdkit', socket, pidFile, readOnly: true, log: silentLogger },
    { url: server.url('/img'), user: undefined, password: undefined, caFile: pki.caFile, caPath: undefined, streaming: variant.streaming },
  );
  const nbdkit = spawn('nbdkit', args, { stdio: 'ignore', env: { ...process.env, TMPDIR: dir } });
  try {
    await eventually('nbdkit ready', () => existsSync(pidFile), 10_000);
    const uri = `nbd+unix:///?socket=${socket}`;
    const started = performance.now();
    // Asynchronously: the HTTPS server runs in this process.
    const read = () => promisify(execFile)('nbdcopy', [`--request-size=${variant.requestBytes}`, '--requests=1', '--connections=1', uri, 'null:']);
    await read();
    await read();
    const ms = performance.now() - started;
    return {
      label: variant.label,
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
