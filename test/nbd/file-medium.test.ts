// FileMedium: the CLI's image file as a medium. The conformance tests read
// and write it through real clients; these cover what they cannot provoke.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileMedium } from '../../nbd/node/file-medium.js';

describe('nbd FileMedium', () => {
  let dir: string;
  let medium: FileMedium | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'file-medium-'))));
  afterEach(async () => {
    await medium?.close();
    medium = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the bytes at an offset into the given view', async () => {
    const bytes = randomBytes(300_000);
    writeFileSync(join(dir, 'image'), bytes);
    medium = await FileMedium.open(join(dir, 'image'), false);
    assert.equal(medium.size, bytes.byteLength);
    const into = new Uint8Array(100_016);
    await medium.read(123_457, into.subarray(16));
    assert.deepEqual(Buffer.from(into.subarray(16)), bytes.subarray(123_457, 223_457));
  });

  it('rejects with EIO, naming the file and the offset, when the file shrank under it', async () => {
    const path = join(dir, 'image');
    writeFileSync(path, randomBytes(65_536));
    medium = await FileMedium.open(path, false);
    truncateSync(path, 40_000);
    await assert.rejects(medium.read(32_768, new Uint8Array(32_768)), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'EIO');
      assert.match(e.message, new RegExp(`${path} ended at 40000`));
      return true;
    });
  });

  it('writes land in the file; a read-only medium refuses with EPERM and leaves the file alone', async () => {
    const path = join(dir, 'image');
    writeFileSync(path, Buffer.alloc(8192));
    medium = await FileMedium.open(path, true);
    await medium.write(4096, Buffer.from('written'));
    await medium.flush();
    assert.equal(readFileSync(path).subarray(4096, 4103).toString(), 'written');
    await medium.close();
    medium = await FileMedium.open(path, false);
    await assert.rejects(medium.write(0, Buffer.from('nope')), { code: 'EPERM' });
    assert.equal(readFileSync(path).subarray(0, 4).toString('hex'), '00000000');
  });
});
