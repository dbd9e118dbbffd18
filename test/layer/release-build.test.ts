// The recipe's own build steps, run outside bitbake on release tarballs made
// by scripts/release/make-release.sh: unpack, build the unix-fd addon (host,
// and a cross build for 32-bit ARM), install into a staging root with the
// recipe's paths, start the daemon from there on a private bus.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { startPrivateBus } from '../support/private-bus.js';
import { RecipeVars, recipeWithIncludes } from './support/bitbake-vars.js';
import { daemonRecipe, daemonRecipeDir, packageVersion, read, repoRoot } from './support/layer-files.js';
import { fixtureReleaseEnv, makeRelease } from './support/release.js';
import { armToolchain, elfMachine, hostToolchain, prepareUnpackdir, runRecipeTask } from './support/recipe-run.js';
import { startStagedDaemon, waitForName } from './support/staged-daemon.js';

const execFileAsync = promisify(execFile);
const busName = 'xyz.openbmc_project.VirtualMedia';
const clientRecipe = join(daemonRecipeDir, `virtual-media-client_${packageVersion()}.bb`);

function tarEntries(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** `file://PATH;md5=SUM` entries of a recipe's LIC_FILES_CHKSUM, expanded like bitbake does. */
function licenseChecksums(recipe: string): { path: string; md5: string }[] {
  const value = new RecipeVars(recipeWithIncludes(recipe), {}).get('LIC_FILES_CHKSUM');
  return value.split(' ').filter(Boolean).map((uri) => {
    const m = /^file:\/\/([^;]+);md5=([0-9a-f]{32})$/.exec(uri);
    assert.ok(m, `LIC_FILES_CHKSUM entry ${uri} is not file://PATH;md5=SUM`);
    return { path: m[1]!, md5: m[2]! };
  });
}

/** Checks every LIC_FILES_CHKSUM md5 against the unpacked tarball, and that every bundled license text is named. */
function checkLicenses(tarball: string, unpacked: string): void {
  prepareUnpackdir(unpacked, tarball);
  const bundledTexts = tarEntries(tarball)
    .filter((e) => e.startsWith('package/licenses/') && !e.endsWith('/'))
    .map((e) => e.slice('package/'.length));
  assert.ok(bundledTexts.some((t) => t.startsWith('licenses/dbus-next/')), 'the license of the bundled dbus-next is shipped');
  for (const recipe of [daemonRecipe, clientRecipe]) {
    const entries = licenseChecksums(recipe);
    for (const { path, md5: want } of entries) {
      const file = join(unpacked, 'package', path);
      assert.ok(existsSync(file), `${path} (from ${basename(recipe)}) is not in the tarball`);
      assert.equal(md5(file), want, `md5 of ${path} named by ${basename(recipe)}`);
    }
    const named = new Set(entries.map((e) => e.path));
    const unnamed = bundledTexts.filter((t) => !named.has(t));
    assert.deepEqual(unnamed, [], `${basename(recipe)}: bundled license texts missing from LIC_FILES_CHKSUM (virtual-media-licenses.inc)`);
  }
}

function md5(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

describe('layer: recipe build steps on a release tarball (fixture daemon)', function () {
  this.timeout(240_000);
  let dir: string;
  let tarball: string;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vm-layer-release-'));
    const release = await makeRelease(join(dir, 'out'), fixtureReleaseEnv);
    assert.equal(release.code, 0, `make-release.sh failed:\n${release.output}`);
    tarball = release.tarball;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the tarball has the layout the recipes build from (npm pack, top directory package/)', () => {
    const entries = tarEntries(tarball);
    for (const required of [
      'package/package.json',
      'package/LICENSE',
      'package/dist/virtual-mediad.mjs',
      'package/dist/client/index.js',
      'package/config/virtual-media.json',
      'package/node_modules/openbmc-dbus-unix-fd/package.json',
      'package/node_modules/openbmc-dbus-unix-fd/binding.gyp',
      'package/node_modules/openbmc-dbus-unix-fd/src/unix_fd.c',
    ]) {
      assert.ok(entries.includes(required), `${required} missing from the tarball`);
    }
    assert.ok(entries.every((e) => e.startsWith('package/')), 'every entry is under package/');
    assert.ok(!entries.some((e) => e.includes('/openbmc-dbus-unix-fd/build/')), 'no host build of the addon is shipped');
    assert.deepEqual(entries.filter((e) => /\/node_modules\/(usocket|nan|bindings|node-gyp)\//.test(e)), [], 'nothing of usocket and its build tools is shipped');
    assert.ok(entries.some((e) => /^package\/dist\/client\/.*\.d\.ts$/.test(e)), 'client declarations are shipped');
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    assert.equal(manifest.version, packageVersion());
    assert.equal(manifest.exports['./client'].import, './dist/client/index.js');
    assert.ok(entries.includes(manifest.exports['./client'].types.replace(/^\.\//, 'package/')), 'exports ./client types exist');
    assert.deepEqual(manifest.bundleDependencies, ['openbmc-dbus-unix-fd']);
    assert.equal(manifest.scripts, undefined, 'no install scripts run on the target');
  });

  it('is reproducible: a second run gives the same bytes, and the .sha256 file names them', async () => {
    const again = await makeRelease(join(dir, 'again'), fixtureReleaseEnv);
    assert.equal(again.code, 0, again.output);
    const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    assert.equal(sha(again.tarball), sha(tarball));
    assert.equal(readFileSync(`${tarball}.sha256`, 'utf8'), `${sha(tarball)}  ${basename(tarball)}\n`);
  });

  it('every LIC_FILES_CHKSUM md5 matches the named file in the tarball, and every bundled license is named', () => {
    checkLicenses(tarball, join(dir, 'lic'));
  });

  it('do_compile cross-builds the unix-fd addon for 32-bit ARM hard-float (arm-linux-gnueabihf)', async () => {
    const work = { unpackdir: join(dir, 'arm/unpack'), dest: join(dir, 'arm/image') };
    prepareUnpackdir(work.unpackdir, tarball);
    const result = await runRecipeTask('do_compile', work, armToolchain);
    assert.equal(result.code, 0, `do_compile for ARM failed:\n${result.output}`);
    const addon = join(work.unpackdir, 'package/node_modules/openbmc-dbus-unix-fd/build/Release/unix_fd.node');
    const elf = elfMachine(readFileSync(addon).subarray(0, 64));
    assert.deepEqual(elf, { bits: 32, machine: 40, hardFloat: true }, 'unix_fd.node is a 32-bit ARM EABI hard-float object');
  });

  it('do_compile fails when the toolchain cannot build for the target', async () => {
    const work = { unpackdir: join(dir, 'bad/unpack'), dest: join(dir, 'bad/image') };
    prepareUnpackdir(work.unpackdir, tarball);
    const result = await runRecipeTask('do_compile', work, { ...armToolchain, cc: 'false', cxx: 'false' });
    assert.notEqual(result.code, 0, 'a compiler that always fails must fail do_compile');
  });

  it('do_install refuses to run without the daemon bundle, saying so', async () => {
    const work = { unpackdir: join(dir, 'nobundle/unpack'), dest: join(dir, 'nobundle/image') };
    prepareUnpackdir(work.unpackdir, tarball);
    rmSync(join(work.unpackdir, 'package/dist/virtual-mediad.mjs'));
    const result = await runRecipeTask('do_install', work, hostToolchain);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /daemon bundle not built yet/);
  });

  describe('host build, do_install and start from the staging root', function () {
    const work = { unpackdir: '', dest: '' };

    before(async function () {
      work.unpackdir = join(dir, 'host/unpack');
      work.dest = join(dir, 'host/image');
      prepareUnpackdir(work.unpackdir, tarball);
      const compiled = await runRecipeTask('do_compile', work, hostToolchain);
      assert.equal(compiled.code, 0, `do_compile for the host failed:\n${compiled.output}`);
      const installed = await runRecipeTask('do_install', work, hostToolchain);
      assert.equal(installed.code, 0, `do_install failed:\n${installed.output}`);
    });

    it('installs the bundle, the built addon, config, unit and D-Bus policy at the recipe paths', () => {
      const app = join(work.dest, 'usr/lib/virtual-media');
      for (const path of [
        join(app, 'virtual-mediad.mjs'),
        join(app, 'node_modules/openbmc-dbus-unix-fd/package.json'),
        join(app, 'node_modules/openbmc-dbus-unix-fd/build/Release/unix_fd.node'),
        join(work.dest, 'etc/virtual-media/config.json'),
        join(work.dest, 'usr/lib/systemd/system/xyz.openbmc_project.VirtualMedia.service'),
        join(work.dest, 'usr/share/dbus-1/system.d/xyz.openbmc_project.VirtualMedia.conf'),
      ]) {
        assert.ok(existsSync(path), `${path} not installed`);
      }
      assert.deepEqual(readdirSync(join(app, 'node_modules')), ['openbmc-dbus-unix-fd'], 'the addon is the only module beside the bundle');
      assert.ok(!existsSync(join(app, 'node_modules/openbmc-dbus-unix-fd/src')), 'addon sources are not installed');
      assert.ok(!existsSync(join(app, 'node_modules/openbmc-dbus-unix-fd/binding.gyp')), 'addon build files are not installed');
      assert.ok(!existsSync(join(app, 'node_modules/openbmc-dbus-unix-fd/build/Release/obj.target')), 'addon objects are not installed');
    });

    it('the installed addon loads in Node where the runtime looks for it (the package\'s build/Release/unix_fd.node)', async () => {
      const addon = join(work.dest, 'usr/lib/virtual-media/node_modules/openbmc-dbus-unix-fd/build/Release/unix_fd.node');
      const { stdout } = await execFileAsync(process.execPath, ['-e', `console.log(typeof require(${JSON.stringify(addon)}).Poller)`]);
      assert.equal(stdout.trim(), 'function');
    });

    it('virtual-media-client installs a package a service below /usr/lib imports as openbmc-virtual-media-client, the npm name', async () => {
      const image = join(dir, 'client/image');
      const installed = await runRecipeTask('do_install', { unpackdir: work.unpackdir, dest: image }, hostToolchain, clientRecipe);
      assert.equal(installed.code, 0, `client do_install failed:\n${installed.output}`);
      const manifest = JSON.parse(readFileSync(join(image, 'usr/lib/node_modules/openbmc-virtual-media-client/package.json'), 'utf8'));
      assert.equal(manifest.name, JSON.parse(readFileSync(join(repoRoot, 'client/package.json'), 'utf8')).name, 'the npm package\'s name');
      assert.ok(existsSync(join(image, 'usr/lib/node_modules/openbmc-virtual-media-client', manifest.exports['.'].types)), 'its declarations');
      assert.ok(existsSync(join(image, 'usr/lib/node_modules/openbmc-virtual-media-client/LICENSE')));
      // A service installed the usual way, /usr/lib/<service>/main.mjs, resolves it by walking up.
      const service = join(image, 'usr/lib/some-service');
      mkdirSync(service, { recursive: true });
      writeFileSync(join(service, 'main.mjs'), "import { SERVICE_NAME } from 'openbmc-virtual-media-client';\nconsole.log(SERVICE_NAME);\n");
      const { stdout } = await execFileAsync(process.execPath, [join(service, 'main.mjs')], { env: { ...process.env, NODE_PATH: '' } });
      assert.equal(stdout.trim(), busName);
    });

    it("starts with the unit's command line from the staging root and owns its bus name", async () => {
      const bus = await startPrivateBus();
      const daemon = startStagedDaemon(work.dest, bus.address);
      try {
        await waitForName(bus.address, busName, daemon, 20_000);
      } finally {
        await daemon.stop();
        await bus.stop();
      }
    });
  });
});

describe('layer: the real release tarball (npm run release)', function () {
  this.timeout(300_000);
  let dir: string;
  let release: Awaited<ReturnType<typeof makeRelease>>;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vm-layer-real-release-'));
    release = await makeRelease(join(dir, 'out'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('make-release.sh builds it from this checkout', () => {
    if (release.code !== 0 && release.output.includes('daemon bundle not built yet')) {
      assert.fail(`daemon bundle not built yet (scripts/release/make-release.sh):\n${release.output}`);
    }
    assert.equal(release.code, 0, `make-release.sh failed:\n${release.output}`);
    assert.ok(existsSync(release.tarball));
  });

  it('the md5s in LIC_FILES_CHKSUM match its license files, and every bundled license is named', () => {
    assert.equal(release.code, 0, `no release tarball: ${release.output.trim().split('\n').pop()}`);
    checkLicenses(release.tarball, join(dir, 'lic'));
  });

  it('virtual-media-client installs a client a service below /usr/lib can import', async () => {
    assert.equal(release.code, 0, `no release tarball: ${release.output.trim().split('\n').pop()}`);
    const work = { unpackdir: join(dir, 'client/unpack'), dest: join(dir, 'client/image') };
    prepareUnpackdir(work.unpackdir, release.tarball);
    const installed = await runRecipeTask('do_install', work, hostToolchain, clientRecipe);
    assert.equal(installed.code, 0, `client do_install failed:\n${installed.output}`);
    const service = join(work.dest, 'usr/lib/some-service');
    mkdirSync(service, { recursive: true });
    writeFileSync(join(service, 'main.mjs'), "const client = await import('openbmc-virtual-media-client');\nconsole.log(Object.keys(client).length);\n");
    const { stdout } = await execFileAsync(process.execPath, [join(service, 'main.mjs')], { env: { ...process.env, NODE_PATH: '' } });
    assert.ok(Number(stdout.trim()) > 0, 'the client exports something');
  });

  it('builds and installs with the recipe steps, then answers GetManagedObjects on a private bus', async () => {
    assert.equal(release.code, 0, `no release tarball: ${release.output.trim().split('\n').pop()}`);
    const work = { unpackdir: join(dir, 'unpack'), dest: join(dir, 'image') };
    prepareUnpackdir(work.unpackdir, release.tarball);
    const compiled = await runRecipeTask('do_compile', work, hostToolchain);
    assert.equal(compiled.code, 0, `do_compile failed:\n${compiled.output}`);
    const installed = await runRecipeTask('do_install', work, hostToolchain);
    assert.equal(installed.code, 0, `do_install failed:\n${installed.output}`);
    const bus = await startPrivateBus();
    const daemon = startStagedDaemon(work.dest, bus.address);
    try {
      await waitForName(bus.address, busName, daemon, 30_000);
      const { stdout } = await execFileAsync('busctl', [
        `--address=${bus.address}`,
        'call',
        busName,
        '/xyz/openbmc_project/VirtualMedia',
        'org.freedesktop.DBus.ObjectManager',
        'GetManagedObjects',
      ]);
      assert.match(stdout, /^a\{oa\{sa\{sv\}\}\}/);
    } finally {
      await daemon.stop();
      await bus.stop();
    }
  });
});
