// The READ reply pool: a buffer is reused only after the transport wrote it,
// foreign and oversized buffers are never taken in, and a real socket
// serving many reads of one size goes round a few buffers with the right
// bytes every time (nbdcopy's sha256 in conformance.test.ts covers files).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ReplyBufferPool } from '../../nbd/node/reply-pool.js';

describe('nbd node: ReplyBufferPool', () => {
  it('hands a buffer out again only after it was written', () => {
    const pool = new ReplyBufferPool();
    const a = pool.take(131088);
    const b = pool.take(131088);
    assert.notEqual(a, b, 'a buffer still being written is not handed out twice');
    pool.written(a);
    assert.equal(pool.take(131088), a);
    assert.equal(pool.take(131088).byteLength, 131088);
    assert.notEqual(pool.take(4096), b, 'sizes are kept apart');
  });

  it('ignores buffers it did not lend, and does not keep large ones', () => {
    const pool = new ReplyBufferPool();
    const foreign = randomBytes(131088);
    pool.written(foreign);
    assert.notEqual(pool.take(131088), foreign);
    const big = pool.take(32 * 1024 * 1024 + 16);
    pool.written(big);
    assert.notEqual(pool.take(32 * 1024 * 1024 + 16), big);
  });

  it('a buffer written twice comes back once', () => {
    const pool = new ReplyBufferPool();
    const a = pool.take(512);
    pool.written(a);
    pool.written(a);
    assert.equal(pool.take(512), a);
    assert.notEqual(pool.take(512), a);
  });
});
