// HTTPS streaming with the real nbdkit: over a link with a round-trip delay
// each NBD request costs an HTTP request, so the daemon makes the kernel send
// few large ones (BlockDevice.MaxRequestKiB) and puts no filter in their way
// by default. The tests count HTTP requests and bytes (behaviour); how much
// time that saves is measured by `npm run bench` (bench/nbdkit.ts, bench/vm.ts).
// And when an operator asks for nbdkit's cache (Nbdkit.CacheMiB), the cache
// file never grows past the cap, counted in allocated bytes.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '../../codegen/runtime/index.js';
import { httpsStreaming, type HttpsStreaming } from '../../daemon/src/media/https-streaming.js';
import { probeNbdkit, type NbdkitFeatures } from '../../daemon/src/seams/nbdkit-probe.js';
import { httpsArgs } from '../../daemon/src/seams/nbdkit.js';
import { requireCommand } from '../support/require-command.js';
import { eventually } from './support/daemon-process.js';
import { diskImage } from './support/images.js';
import { FILTER_IMAGE_BYTES, streamThroughFilters, streamVariants, type FilterRun } from './support/filter-stream.js';
import { makePki, startImageServer } from './support/tls-server.js';

/** Small: the test counts requests, the delay only makes the server behave like a remote one. */
const DELAY_MS = 2;
const MiB = 1024 * 1024;

describe('daemon: HTTPS streaming through the real nbdkit', function () {
  this.timeout(180_000);
  let dir: string;
  let features: NbdkitFeatures;
  before(async () => {
    requireCommand('nbdkit', 'nbdkit');
    requireCommand('nbdcopy', 'libnbd-bin');
    dir = mkdtempSync(join(tmpdir(), 'vmd-filt-'));
    features = await probeNbdkit('nbdkit', silentLogger);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the daemon's default costs one HTTP request per large kernel request, the bare plugin one per 128 KiB", async () => {
    const results: FilterRun[] = [];
    for (const v of streamVariants(features)) results.push(await streamThroughFilters(dir, v, DELAY_MS));
    for (const m of results) console.log(`      ${m.label.padEnd(72)} ${String(m.requests).padStart(4)} HTTP GETs  ${m.megabytesFetched.toFixed(1)} MiB fetched`);
    const bare = results[0]!;
    const daemon = results.at(-1)!;
    // 2 passes of 8 MiB: the bare plugin asks once per 128 KiB read (128).
    assert.ok(bare.requests >= 2 * (FILTER_IMAGE_BYTES / 131072), `the bare plugin fetches per read (${bare.requests} GETs)`);
    // 8 MiB requests: one GET per pass (a HEAD-less size probe may add one).
    assert.ok(daemon.requests <= 3, `one GET per 8 MiB request (${daemon.requests} GETs)`);
    assert.ok(daemon.megabytesFetched <= (2 * FILTER_IMAGE_BYTES) / MiB + 0.5, `each pass fetches the image once (${daemon.megabytesFetched.toFixed(1)} MiB)`);
  });

  describe('nbdkit cache with a cap (Nbdkit.CacheMiB)', () => {
    const CAP_MIB = 8;
    const REQUEST = 1 * MiB;
    const IMAGE = 24 * MiB;

    /** Streams the image once in REQUEST-sized reads, sampling the cache file's allocated bytes; returns the peak. */
    async function peakCacheBytes(streaming: HttpsStreaming): Promise<{ peak: number; samples: number }> {
      const tag = Math.random().toString(36).slice(2, 8);
      const pki = makePki(dir, `c${tag}`);
      const cacheDir = join(dir, `tmp-${tag}`);
      mkdirSync(cacheDir);
      const server = await startImageServer(pki, { '/img': diskImage(join(dir, `img-${tag}`), IMAGE) });
      const socket = join(dir, `c${tag}.sock`);
      const pidFile = `${socket}.pid`;
      const args = httpsArgs({ command: 'nbdkit', socket, pidFile, readOnly: true, log: silentLogger }, { url: server.url('/img'), user: undefined, password: undefined, caFile: pki.caFile, caPath: undefined, streaming });
      const nbdkit = spawn('nbdkit', args, { stdio: 'ignore', env: { ...process.env, TMPDIR: cacheDir } });
      try {
        await eventually('nbdkit ready', () => existsSync(pidFile), 10_000);
        // The cache is an unlinked file in TMPDIR, open in nbdkit: count its allocated blocks.
        const cacheFd = (): string | undefined => {
          for (const fd of readdirSync(`/proc/${nbdkit.pid}/fd`)) {
            const target = (() => { try { return readlinkSync(`/proc/${nbdkit.pid}/fd/${fd}`); } catch { return ''; } })();
            if (target.startsWith(cacheDir)) return `/proc/${nbdkit.pid}/fd/${fd}`;
          }
          return undefined;
        };
        let peak = 0;
        let samples = 0;
        const sample = () => {
          const fd = cacheFd();
          if (!fd) return;
          try {
            peak = Math.max(peak, statSync(fd).blocks * 512);
            samples++;
          } catch {
            // nbdkit closing
          }
        };
        const timer = setInterval(sample, 2);
        try {
          await promisify(execFile)('nbdcopy', [`--request-size=${REQUEST}`, '--requests=1', '--connections=1', `nbd+unix:///?socket=${socket}`, 'null:']);
        } finally {
          clearInterval(timer);
        }
        // Reclaim happens only before a read, so the state after the last read is a peak candidate too.
        sample();
        return { peak, samples };
      } finally {
        nbdkit.kill('SIGTERM');
        await new Promise((r) => nbdkit.once('exit', r));
        await server.close();
      }
    }

    it('the cache derived for a cap stays within it while an image 3x the cap streams through', async () => {
      const streaming = httpsStreaming(features, { cacheMiB: CAP_MIB, httpConnections: 4, httpTimeout: 30, maxRequestKiB: REQUEST / 1024, explicit: undefined });
      if (!features.cacheMaxSize || !features.cacheMinBlockSize) {
        // This nbdkit cannot cap its cache: the daemon must then stream without one.
        assert.deepEqual(streaming.filters, []);
        assert.ok(streaming.notes.length > 0);
        return;
      }
      assert.deepEqual(streaming.filters, ['cache']);
      const { peak, samples } = await peakCacheBytes(streaming);
      console.log(`      ${streaming.filterParams.join(' ')}: peak ${(peak / MiB).toFixed(2)} MiB of a ${CAP_MIB} MiB cap (${samples} samples)`);
      assert.ok(samples > 0, 'the cache file was found and measured');
      assert.ok(peak > CAP_MIB * MiB * 0.5, `the cache was used (${(peak / MiB).toFixed(2)} MiB)`);
      assert.ok(peak <= CAP_MIB * MiB, `peak ${(peak / MiB).toFixed(2)} MiB <= cap ${CAP_MIB} MiB`);
    });

    it('control: cache-max-size alone does not hold when requests span many small blocks (why the block size follows the request size)', async () => {
      assert.ok(features.cacheMaxSize && features.cacheMinBlockSize, 'this nbdkit cache filter has no cache-max-size or cache-min-block-size (Debian\'s nbdkit has both)');
      const derived = httpsStreaming(features, { cacheMiB: CAP_MIB, httpConnections: 4, httpTimeout: 30, maxRequestKiB: REQUEST / 1024, explicit: undefined });
      const smallBlocks: HttpsStreaming = { ...derived, filterParams: derived.filterParams.map((p) => (p.startsWith('cache-min-block-size=') ? 'cache-min-block-size=64K' : p)) };
      const { peak } = await peakCacheBytes(smallBlocks);
      console.log(`      ${smallBlocks.filterParams.join(' ')}: peak ${(peak / MiB).toFixed(2)} MiB of a ${CAP_MIB} MiB cap`);
      assert.ok(peak > CAP_MIB * MiB, `with 64 KiB blocks the cache outgrows the cap (${(peak / MiB).toFixed(2)} MiB)`);
    });
  });
});
