// The NBD server core against clients we did not write: libnbd's nbdinfo
// and nbdcopy, and qemu's NBD client (qemu-img), over a unix socket.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileMedium } from '../../nbd/node/file-medium.js';
import { requireCommand } from '../support/require-command.js';
import { mustRun, run } from './support/run.js';
import { UnixNbdServer } from './support/unix-server.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('nbd core: conformance with libnbd and qemu clients', function () {
  this.timeout(60_000);
  let nbdinfo: string, nbdcopy: string, qemuImg: string;
  let dir: string;
  let server: UnixNbdServer | undefined;
  let medium: FileMedium | undefined;

  before(() => {
    nbdinfo = requireCommand('nbdinfo', 'libnbd-bin');
    nbdcopy = requireCommand('nbdcopy', 'libnbd-bin');
    qemuImg = requireCommand('qemu-img', 'qemu-utils');
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nbd-conf-'));
  });
  afterEach(async () => {
    if (server) {
      const ends = await server.stop();
      assert.equal(server.openSockets, 0, 'no socket left open');
      assert.deepEqual(ends.filter((e) => e.reason === 'protocol'), [], `no client was hung up on: ${server.log.join('; ')}`);
    }
    await medium?.close();
    server = undefined;
    medium = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(bytes: Buffer, writable: boolean, options: { name?: string; description?: string } = {}) {
    const path = join(dir, 'disk.img');
    writeFileSync(path, bytes);
    medium = await FileMedium.open(path, writable);
    server = await UnixNbdServer.start(medium, options);
    return path;
  }

  it('nbdinfo sees the size, flags, name, description and block sizes; --list lists the export', async () => {
    await serve(randomBytes(1000), false, { name: 'boot.iso', description: 'an installer' });
    const info = JSON.parse((await mustRun(nbdinfo, ['--json', server!.uriFor('boot.iso')])).stdout.toString());
    assert.equal(info.protocol, 'newstyle-fixed');
    const e = info.exports[0];
    assert.equal(e['export-name'], 'boot.iso');
    assert.equal(e.description, 'an installer');
    assert.equal(e['export-size'], 1000);
    assert.equal(e.is_read_only, true);
    assert.equal(e.can_flush, false);
    assert.equal(e.can_trim, false);
    assert.deepEqual([e.block_size_minimum, e.block_size_preferred, e.block_size_maximum], [1, 4096, 32 * 1024 * 1024]);
    const list = JSON.parse((await mustRun(nbdinfo, ['--list', '--json', server!.uri])).stdout.toString());
    assert.deepEqual(list.exports.map((x: { 'export-name': string }) => x['export-name']), ['boot.iso']);
  });

  it('refuses an export name it does not have with NBD_REP_ERR_UNKNOWN (the client says so)', async () => {
    await serve(randomBytes(4096), false, { name: 'disk' });
    const r = await run(nbdinfo, [server!.uriFor('other')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /opt_go.*error/i);
    assert.ok(server!.log.some((l) => l.includes('no export named "other"')), server!.log.join('\n'));
  });

  it('nbdcopy reads a read-only export (size not a multiple of 512): sha256 equals the file', async () => {
    const bytes = randomBytes(8 * 1024 * 1024 + 1000);
    await serve(bytes, false);
    const r = await mustRun(nbdcopy, ['--requests=16', server!.uri, '-']);
    assert.equal(sha256(r.stdout), sha256(bytes));
  });

  it('nbdcopy writes a read-write export: the file holds the written bytes', async () => {
    const path = await serve(Buffer.alloc(8 * 1024 * 1024), true);
    const source = join(dir, 'source.img');
    const bytes = randomBytes(8 * 1024 * 1024);
    // A zero run in the middle: nbdcopy sends it as NBD_CMD_WRITE_ZEROES or TRIM+zero.
    bytes.fill(0, 1024 * 1024, 3 * 1024 * 1024);
    writeFileSync(source, bytes);
    writeFileSync(path, Buffer.alloc(bytes.length, 0xa5));
    await mustRun(nbdcopy, ['--flush', source, server!.uri]);
    assert.equal(sha256(readFileSync(path)), sha256(bytes));
  });

  it('qemu-img reads, writes and compares through its own NBD client', async () => {
    const path = await serve(randomBytes(4 * 1024 * 1024), true);
    const info = (await mustRun(qemuImg, ['info', '--output=json', server!.uri])).stdout.toString();
    assert.equal(JSON.parse(info)['virtual-size'], 4 * 1024 * 1024);
    const copy = join(dir, 'copy.img');
    await mustRun(qemuImg, ['convert', '-f', 'raw', '-O', 'raw', server!.uri, copy]);
    assert.equal(sha256(readFileSync(copy)), sha256(readFileSync(path)));
    const source = join(dir, 'source.img');
    writeFileSync(source, randomBytes(4 * 1024 * 1024));
    await mustRun(qemuImg, ['convert', '-n', '-f', 'raw', '-O', 'raw', source, server!.uri]);
    assert.equal(sha256(readFileSync(path)), sha256(readFileSync(source)));
    await mustRun(qemuImg, ['compare', '-f', 'raw', '-F', 'raw', source, server!.uri]);
  });
});
