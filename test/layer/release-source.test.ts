// Where the recipes get the release tarball, read through the model of
// BitBake's datastore (support/bitbake-data.ts): by default the file
// `npm run release` writes, found in release/ of this checkout without
// editing anything; VIRTUAL_MEDIA_RELEASE_DIR moves it; a published URL
// replaces it and is checked against the sha256 `make-release.sh --pin` writes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, normalize } from 'node:path';
import { BitbakeData } from './support/bitbake-data.js';
import { daemonRecipe, daemonRecipeDir, packageVersion, releaseScript, repoRoot } from './support/layer-files.js';
import { fixtureReleaseEnv, makeRelease } from './support/release.js';

const releaseInc = join(daemonRecipeDir, 'virtual-media-release.inc');
const clientRecipe = join(daemonRecipeDir, `virtual-media-client_${packageVersion()}.bb`);
const tarballName = `meta-virtual-media-${packageVersion()}.tgz`;
// The classes the two recipes inherit set nothing these tests read.
const classes = { features_check: '', systemd: '', python3native: '', allarch: '' };

function parseRecipe(recipe: string, localConf = ''): BitbakeData {
  const d = new BitbakeData(['arm', 'class-target', 'pn-virtual-media'], classes);
  d.parse('conf/local.conf', ['FILESEXTRAPATHS ?= "__default:"', 'PN = "virtual-media"', `PV = "${packageVersion()}"`, 'DISTRO_FEATURES = "systemd virtual-media"', localConf].join('\n'));
  return d.parse(recipe).finish();
}

/** The directories FILESEXTRAPATHS puts first in FILESPATH, normalised. */
function extraPaths(d: BitbakeData): string[] {
  return (d.get('FILESEXTRAPATHS') ?? '').split(':').filter((p) => p && p !== '__default').map((p) => normalize(p));
}

describe('layer: where the recipes get the release tarball', function () {
  this.timeout(120_000);

  it("by default both recipes fetch file://<tarball> from release/ of this checkout, where `npm run release` writes it", () => {
    const help = execFileSync('bash', [releaseScript, '--help'], { encoding: 'utf8' });
    const defaultOut = /^default output directory: (.+)$/m.exec(help)?.[1];
    assert.equal(defaultOut, join(repoRoot, 'release'));
    for (const recipe of [daemonRecipe, clientRecipe]) {
      const d = parseRecipe(recipe);
      assert.equal(d.words('SRC_URI')[0], `file://${tarballName}`, basename(recipe));
      assert.equal(extraPaths(d)[0], defaultOut, `${basename(recipe)} looks in release/ first`);
      assert.equal(d.get('S'), '${UNPACKDIR}/package');
    }
  });

  it('VIRTUAL_MEDIA_RELEASE_DIR moves it; VIRTUAL_MEDIA_RELEASE_URI replaces it by a download', () => {
    assert.equal(extraPaths(parseRecipe(daemonRecipe, 'VIRTUAL_MEDIA_RELEASE_DIR = "/srv/release"'))[0], '/srv/release');
    const published = parseRecipe(daemonRecipe, 'VIRTUAL_MEDIA_RELEASE_URI = "https://releases.invalid/meta-virtual-media-${PV}.tgz"');
    assert.equal(published.words('SRC_URI')[0], `https://releases.invalid/${tarballName}`);
    assert.ok(!published.words('SRC_URI').includes(`file://${tarballName}`));
  });

  it('no published tarball is pinned yet: SRC_URI[sha256sum] is empty, so bitbake refuses an unpinned download', () => {
    assert.equal(parseRecipe(daemonRecipe).flag('SRC_URI', 'sha256sum'), '');
  });

  describe('make-release.sh --pin', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'vm-release-pin-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("writes the tarball's sha256 where SRC_URI[sha256sum] reads it, and nothing else", async () => {
      const inc = join(dir, 'virtual-media-release.inc');
      copyFileSync(releaseInc, inc);
      const release = await makeRelease(join(dir, 'out'), { ...fixtureReleaseEnv, VM_RELEASE_INC: inc }, ['--pin']);
      assert.equal(release.code, 0, release.output);
      const sha = createHash('sha256').update(readFileSync(release.tarball)).digest('hex');
      assert.equal(readFileSync(`${release.tarball}.sha256`, 'utf8'), `${sha}  ${tarballName}\n`);
      const pinned = new BitbakeData().parse(join(daemonRecipeDir, 'pinned.inc'), readFileSync(inc, 'utf8'));
      assert.equal(pinned.flag('SRC_URI', 'sha256sum'), sha);
      const before = readFileSync(releaseInc, 'utf8').split('\n');
      const after = readFileSync(inc, 'utf8').split('\n');
      assert.deepEqual(after.filter((l, i) => l !== before[i]), [`VIRTUAL_MEDIA_RELEASE_SHA256 = "${sha}"`]);
    });

    it('refuses, before building anything, an .inc without the line to pin', async () => {
      const inc = join(dir, 'other.inc');
      writeFileSync(inc, 'SRC_URI[sha256sum] = ""\n');
      const release = await makeRelease(join(dir, 'refused'), { ...fixtureReleaseEnv, VM_RELEASE_INC: inc }, ['--pin']);
      assert.notEqual(release.code, 0);
      assert.match(release.output, /--pin: .*other\.inc has no VIRTUAL_MEDIA_RELEASE_SHA256/);
      assert.equal(readFileSync(inc, 'utf8'), 'SRC_URI[sha256sum] = ""\n');
    });
  });
});
