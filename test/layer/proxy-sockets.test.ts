// The proxy socket directory: bmcweb binds /run/virtual-media-proxy/<nbdN>.sock,
// the daemon's nbd-client connects. Checked with the real tools: the
// tmpfiles.d line run by systemd-tmpfiles in a scratch root, a process with
// bmcweb's uid binding there (and one with another uid refused), a root
// process connecting through a read-only mount as ProtectSystem=strict makes
// it, the bmcweb drop-in through systemd-analyze verify, and the same path
// in the daemon's defaults, its shipped config and the layer files.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_ROOTS } from '../../daemon/src/config/defaults.js';
import { requireCommand } from '../support/require-command.js';
import { read, repoRoot } from './support/layer-files.js';
import { bmcwebAppendDir } from './support/openbmc-recipes.js';

const execFileAsync = promisify(execFile);
const tmpfilesLine = join(bmcwebAppendDir, 'bmcweb/virtual-media-proxy.tmpfiles');
const dropIn = join(bmcwebAppendDir, 'bmcweb/virtual-media-proxy.conf');
const PROXY_DIR = '/run/virtual-media-proxy';
const BMCWEB_UID = 64_123;
const OTHER_UID = 64_124;

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A scratch root whose /etc knows root and, unless told otherwise, the bmcweb user and group. */
function scratchRoot(parent: string, withBmcweb = true): string {
  const root = mkdtempSync(join(parent, 'root-'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'run'), { recursive: true });
  const bmcweb = withBmcweb ? [`bmcweb:x:${BMCWEB_UID}:${BMCWEB_UID}::/:/sbin/nologin\n`, `bmcweb:x:${BMCWEB_UID}:\n`] : ['', ''];
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\n${bmcweb[0]}`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\n${bmcweb[1]}`);
  chmodSync(root, 0o755);
  return root;
}

async function tmpfiles(root: string): Promise<{ code: number; stderr: string }> {
  requireCommand('systemd-tmpfiles', 'systemd');
  return run('systemd-tmpfiles', ['--create', `--root=${root}`, tmpfilesLine]);
}

/**
 * Runs node as `uid` (primary group `gid`, no supplementary groups) binding a
 * unix socket at `path`; resolves with "listening" or the error code.
 */
async function bindAs(uid: number, gid: number, path: string): Promise<{ outcome: string; stop: () => void }> {
  requireCommand('setpriv', 'util-linux');
  const script = `const s = require('node:net').createServer((c) => c.end('hello')); s.on('error', (e) => { console.log(e.code); process.exit(0); }); s.listen(process.argv[1], () => console.log('listening'));`;
  const child = spawn('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', process.execPath, '-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const outcome = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => resolve(out.trim() || `exited ${code}`));
    child.once('error', reject);
  });
  return { outcome, stop: () => void child.kill() };
}

/** Connects to a unix socket; resolves with the first data or the error code. */
function connectTo(path: string): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('data', (d) => {
      resolve(d.toString());
      c.destroy();
    });
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('layer: the proxy socket directory', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vm-proxy-dir-'));
    chmodSync(dir, 0o755); // other uids must reach the scratch roots inside
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the same path in the tmpfiles line, the bmcweb drop-in, the daemon defaults and its shipped config', () => {
    assert.equal(DEFAULT_ROOTS.proxySockets, PROXY_DIR);
    assert.match(read(tmpfilesLine), new RegExp(`^d ${PROXY_DIR} 0770 root bmcweb -$`, 'm'));
    assert.match(read(dropIn), new RegExp(`^ReadWritePaths=-${PROXY_DIR}$`, 'm'));
    const shipped = JSON.parse(read(join(repoRoot, 'daemon/config/virtual-media.json'))) as { MountPoints: Record<string, { Mode: number; UnixSocket: string }> };
    const proxy = Object.values(shipped.MountPoints).filter((m) => m.Mode === 0);
    assert.ok(proxy.length > 0);
    for (const m of proxy) assert.equal(dirname(m.UnixSocket), PROXY_DIR);
    for (const m of Object.values(shipped.MountPoints).filter((m) => m.Mode === 1)) assert.equal(dirname(m.UnixSocket), DEFAULT_ROOTS.run, 'legacy sockets stay private');
  });

  it('systemd-tmpfiles makes it root:bmcweb, mode 0770', async () => {
    const root = scratchRoot(dir);
    const result = await tmpfiles(root);
    assert.equal(result.code, 0, result.stderr);
    const st = statSync(join(root, PROXY_DIR));
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o7777, 0o770);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, BMCWEB_UID);
  });

  it('the line needs the bmcweb group (which bmcweb\'s recipe creates): without it tmpfiles says so', async () => {
    const root = scratchRoot(dir, false);
    const result = await tmpfiles(root);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /bmcweb/);
    assert.equal(existsSync(join(root, PROXY_DIR)), false);
  });

  it("bmcweb's uid binds a socket there and root connects; another uid can neither bind nor connect", async () => {
    const root = scratchRoot(dir);
    assert.equal((await tmpfiles(root)).code, 0);
    const socket = join(root, PROXY_DIR, 'nbd0.sock');
    const bmcweb = await bindAs(BMCWEB_UID, BMCWEB_UID, socket);
    try {
      assert.equal(bmcweb.outcome, 'listening');
      assert.equal(await connectTo(socket), 'hello', 'root (the daemon, nbd-client) connects');
      const other = await bindAs(OTHER_UID, OTHER_UID, join(root, PROXY_DIR, 'nbd1.sock'));
      other.stop();
      assert.equal(other.outcome, 'EACCES');
      const script = `require('node:net').connect(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
      const { stdout } = await execFileAsync('setpriv', [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', process.execPath, '-e', script, socket], { encoding: 'utf8' });
      assert.equal(stdout.trim(), 'EACCES');
    } finally {
      bmcweb.stop();
    }
  });

  it('a root process connects through a read-only mount of it, as the daemon does under ProtectSystem=strict', async () => {
    requireCommand('unshare', 'util-linux');
    const root = scratchRoot(dir);
    assert.equal((await tmpfiles(root)).code, 0);
    const proxyDir = join(root, PROXY_DIR);
    const socket = join(proxyDir, 'nbd0.sock');
    const bmcweb = await bindAs(BMCWEB_UID, BMCWEB_UID, socket);
    try {
      assert.equal(bmcweb.outcome, 'listening');
      const inside = [
        `mount --bind '${proxyDir}' '${proxyDir}'`,
        `mount -o remount,bind,ro '${proxyDir}'`,
        `if touch '${proxyDir}/probe' 2>/dev/null; then echo writable; else echo read-only; fi`,
        `'${process.execPath}' -e "require('node:net').connect(process.argv[1]).on('data', (d) => { console.log(String(d)); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })" '${socket}'`,
      ].join(' && ');
      const { stdout } = await execFileAsync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', inside], { encoding: 'utf8' });
      assert.deepEqual(stdout.trim().split('\n'), ['read-only', 'hello']);
    } finally {
      bmcweb.stop();
    }
  });

  describe('the bmcweb drop-in', () => {
    // A bmcweb unit of the kind bmcweb's -Dexperimental-bmcweb-user option
    // installs (written for this test), with the drop-in beside it.
    const bmcwebUnit = ['[Unit]', 'Description=bmcweb (test stand-in)', '[Service]', 'Type=simple', 'ExecStart=/usr/bin/bmcweb daemon', 'User=bmcweb', 'Group=bmcweb', 'DynamicUser=yes', '[Install]', 'WantedBy=network.target', ''].join('\n');

    async function verifyWith(dropInText: string): Promise<{ code: number; stderr: string }> {
      requireCommand('systemd-analyze', 'systemd');
      const root = scratchRoot(dir);
      const unitDir = join(root, 'usr/lib/systemd/system');
      mkdirSync(join(unitDir, 'bmcweb.service.d'), { recursive: true });
      const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(join(d, 'network.target')));
      assert.ok(hostUnits, 'network.target not found on this machine: install the Debian package systemd');
      cpSync(hostUnits, unitDir, { recursive: true, dereference: false });
      mkdirSync(join(root, 'usr/bin'), { recursive: true });
      writeFileSync(join(root, 'usr/bin/bmcweb'), '#!/bin/sh\n');
      chmodSync(join(root, 'usr/bin/bmcweb'), 0o755);
      writeFileSync(join(unitDir, 'bmcweb.service'), bmcwebUnit);
      writeFileSync(join(unitDir, 'bmcweb.service.d/virtual-media-proxy.conf'), dropInText);
      return run('systemd-analyze', ['verify', `--root=${root}`, '/usr/lib/systemd/system/bmcweb.service']);
    }

    it('passes systemd-analyze verify on a bmcweb unit without a warning', async () => {
      const result = await verifyWith(readFileSync(dropIn, 'utf8'));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr.trim(), '', 'no warnings');
    });

    it('verify does read the drop-in: a misspelt key is reported', async () => {
      const result = await verifyWith(readFileSync(dropIn, 'utf8').replace('ReadWritePaths=', 'ReadWritePath='));
      assert.match(result.stderr, /Unknown key.*ReadWritePath|ReadWritePath.*Unknown key|Unknown key name 'ReadWritePath'/);
    });
  });
});
