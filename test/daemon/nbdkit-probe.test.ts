// Feature detection of the installed nbdkit (seams/nbdkit-probe.ts) and the
// HTTPS arguments built from it (media/https-streaming.ts): on the probe
// answers of nbdkit 1.32.5 (Debian, captured), 1.47.9 (OpenBMC master;
// composed from nbdkit's source, see the fixture's note) and a build
// without cache reclaim, then the real probe of the nbdkit installed here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../codegen/runtime/index.js';
import { cacheMaxSizeMiB, httpsStreaming, type StreamingSettings } from '../../daemon/src/media/https-streaming.js';
import { featuresFrom, NO_FEATURES, PROBES, probeNbdkit, type ProbeAnswers } from '../../daemon/src/seams/nbdkit-probe.js';
import { requireCommand } from '../support/require-command.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'nbdkit-probes');
const answers = (name: string): ProbeAnswers => JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as ProbeAnswers;
const settings = (over: Partial<StreamingSettings> = {}): StreamingSettings => ({ cacheMiB: 0, httpConnections: 4, httpTimeout: 30, maxRequestKiB: 8192, explicit: undefined, ...over });

describe('daemon: nbdkit feature detection and the HTTPS arguments built from it', function () {
  this.timeout(30_000);
  it('nbdkit 1.32.5: serialised curl plugin without connections=, cache filter with both size parameters', () => {
    const f = featuresFrom(answers('1.32.5'));
    assert.deepEqual(f, { version: '1.32.5', curlThreadModel: 'serialize_requests', curlConnections: false, cacheFilter: true, cacheMinBlockSize: true, cacheMaxSize: true });
    assert.deepEqual(httpsStreaming(f, settings()), { filters: [], pluginParams: ['timeout=30'], filterParams: [], notes: [] });
  });

  it('nbdkit 1.47.9: parallel curl plugin with a connection pool, which the daemon sizes', () => {
    const f = featuresFrom(answers('1.47.9'));
    assert.deepEqual(f, { version: '1.47.9', curlThreadModel: 'parallel', curlConnections: true, cacheFilter: true, cacheMinBlockSize: true, cacheMaxSize: true });
    assert.deepEqual(httpsStreaming(f, settings({ httpConnections: 6, httpTimeout: 45 })).pluginParams, ['timeout=45', 'connections=6']);
  });

  it('a cache cap becomes a cache filter whose blocks are as large as the largest request, with cache-max-size leaving room for the overshoot', () => {
    for (const version of ['1.32.5', '1.47.9']) {
      const s = httpsStreaming(featuresFrom(answers(version)), settings({ cacheMiB: 64 }));
      assert.deepEqual(s.filters, ['cache'], version);
      // 64 MiB cap, 8 MiB blocks and requests: (64 - 8 - 8) / 0.95 = 50.5.
      assert.deepEqual(s.filterParams, ['cache-on-read=true', 'cache-min-block-size=8M', 'cache-max-size=50M'], version);
    }
    // Block sizes are powers of two (nbdkit refuses others): 3 MiB requests -> 4 MiB blocks.
    assert.match(httpsStreaming(featuresFrom(answers('1.32.5')), settings({ cacheMiB: 64, maxRequestKiB: 3072 })).filterParams.join(' '), /cache-min-block-size=4M cache-max-size=58M/);
    assert.equal(cacheMaxSizeMiB(32, 1, 1), 31);
  });

  it('no cache where its cap cannot hold: a build without cache-max-size, no cache filter, or a cap too small for the blocks', () => {
    const noReclaim = httpsStreaming(featuresFrom(answers('1.32.5-no-reclaim')), settings({ cacheMiB: 64 }));
    assert.deepEqual(noReclaim.filters, []);
    assert.match(noReclaim.notes.join(), /no cache-max-size/);
    const none = httpsStreaming(NO_FEATURES, settings({ cacheMiB: 64 }));
    assert.deepEqual([none.filters, none.pluginParams], [[], ['timeout=30']]);
    assert.match(none.notes.join(), /no nbdkit cache filter/);
    const small = httpsStreaming(featuresFrom(answers('1.47.9')), settings({ cacheMiB: 16 }));
    assert.deepEqual(small.filters, []);
    assert.match(small.notes.join(), /CacheMiB 16 is too small for 8 MiB cache blocks \(needs at least 32\)/);
  });

  it("an operator's explicit filters are used verbatim; connections= only where nbdkit has it", () => {
    const explicit = { filters: ['readahead', 'cache'], params: ['cache-on-read=true'] };
    assert.deepEqual(httpsStreaming(featuresFrom(answers('1.32.5')), settings({ explicit, cacheMiB: 64 })), { filters: ['readahead', 'cache'], pluginParams: ['timeout=30'], filterParams: ['cache-on-read=true'], notes: [] });
    assert.deepEqual(httpsStreaming(featuresFrom(answers('1.47.9')), settings({ explicit })).pluginParams, ['timeout=30', 'connections=4']);
  });

  it('probe answers that are not dumps (a failing or foreign program) give no features', () => {
    const refused = { accepted: false, output: 'nbdkit: error: cannot open plugin' };
    const all = Object.fromEntries(Object.keys(PROBES).map((k) => [k, refused])) as unknown as ProbeAnswers;
    assert.deepEqual(featuresFrom(all), NO_FEATURES);
    // A connections= answer without a curl plugin does not count.
    assert.equal(featuresFrom({ ...all, curlConnections: { accepted: true, output: '' } }).curlConnections, false);
  });

  it('the real probe of the installed nbdkit agrees with its captured answers (or with what its version says)', async () => {
    requireCommand('nbdkit', 'nbdkit');
    const f = await probeNbdkit('nbdkit', silentLogger);
    assert.ok(f.version, 'the curl plugin dump names a version');
    if (f.version === '1.32.5') assert.deepEqual(f, featuresFrom(answers('1.32.5')));
    else assert.equal(f.curlConnections, f.curlThreadModel === 'parallel', `nbdkit ${f.version}: connections= came with the parallel curl plugin`);
  });

  it('a missing program or one that hangs is "no features", within the probe timeout', async () => {
    assert.deepEqual(await probeNbdkit('/nonexistent/nbdkit', silentLogger), NO_FEATURES);
    const silent = join(import.meta.dirname, 'fixtures', 'fake-nbdkit-silent.mjs');
    assert.deepEqual(await probeNbdkit(silent, silentLogger, 1500), NO_FEATURES);
    const stop = new AbortController();
    const abandoned = probeNbdkit(silent, silentLogger, 60_000, stop.signal);
    stop.abort();
    assert.deepEqual(await abandoned, NO_FEATURES, 'a daemon stopping ends the probe at once');
  });
});
