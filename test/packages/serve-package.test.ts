// The virtual-media-serve package as a user gets it: npm pack
// (scripts/packages/serve-package.ts), installed into a fresh project
// outside this repository (offline, from npm's cache; a PATH with no trace of
// the repository), then run through npx: --help, bad usage, and a real serve
// of a local file to the fake bmcweb, read back through the relay by nbdcopy.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki, type Pki } from '../daemon/support/tls-server.js';
import { FakeBmcweb } from '../nbd/support/fake-bmcweb.js';
import { installCliPackage, runClean as run } from '../nbd/support/installed-cli.js';
import { mustRun } from '../nbd/support/run.js';
import { requireCommand } from '../support/require-command.js';

describe('packages: virtual-media-serve installed from its tarball into a fresh project', function () {
  this.timeout(300_000);
  let dir: string;
  let project: string;

  before(async function () {
    requireCommand('npm', 'npm');
    dir = mkdtempSync(join(tmpdir(), 'serve-package-'));
    project = (await installCliPackage(dir)).project;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships the compiled CLI and its runtime dependency, no TypeScript source', () => {
    const installed = join(project, 'node_modules', 'virtual-media-serve');
    assert.ok(existsSync(join(installed, 'dist', 'cli', 'main.js')));
    assert.ok(!existsSync(join(installed, 'cli', 'main.ts')), 'sources are not shipped: the launcher must run dist/');
    assert.ok(existsSync(join(project, 'node_modules', 'ws', 'package.json')), 'ws is installed with it');
    assert.equal(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).bin['virtual-media-serve'], 'bin/virtual-media-serve.js');
  });

  it('npx virtual-media-serve --help prints the usage and exits 0; bad usage exits 2', async () => {
    const help = await run('npx', ['--no-install', 'virtual-media-serve', '--help'], project);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout + help.stderr, /Usage: virtual-media-serve --bmc https:\/\/BMC/);
    const bad = await run('npx', ['--no-install', 'virtual-media-serve', '--bmc', 'https://bmc.example', '--password', 'x', 'disk.img'], project);
    assert.equal(bad.code, 2, bad.stderr);
    assert.doesNotMatch(bad.stdout + bad.stderr, /\bx\b.*\bx\b/, 'the refused password is not echoed twice');
  });

  it('the installed command serves a local file to the fake bmcweb: nbdcopy through the relay reads its sha256', async () => {
    const nbdcopy = requireCommand('nbdcopy', 'libnbd-bin');
    const pki: Pki = makePki(dir);
    const bmc = new FakeBmcweb(pki, dir, [{ id: 'Slot_0', endpoint: '/nbd/0' }], { user: 'root', password: 'pw' });
    await bmc.start();
    try {
      const image = join(project, 'disk.img');
      const bytes = randomBytes(2 * 1024 * 1024 + 512);
      writeFileSync(image, bytes);
      const served = run('npx', ['--no-install', 'virtual-media-serve', '--bmc', bmc.url, '--ca', pki.caFile, '--quiet', 'disk.img'], project, { BMC_PASSWORD: 'pw' });
      const socket = await bmc.mounted('Slot_0');
      const copy = await mustRun(nbdcopy, [`nbd+unix:///?socket=${socket}`, '-']);
      assert.equal(createHash('sha256').update(copy.stdout).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
      // nbdcopy disconnecting ejects: the command ends by itself, its session deleted.
      const end = await served;
      assert.equal(end.code, 0, end.stderr);
      assert.equal(bmc.sessions.size, 0);
    } finally {
      await bmc.stop();
    }
  });
});
