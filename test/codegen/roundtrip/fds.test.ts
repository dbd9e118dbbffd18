// Unix fds cross the bus both ways, bare (`h`) and inside a variant.
import { strict as assert } from 'node:assert';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixture, type Fixture } from './everything-service.js';

describe('round trip: unix fd passing', function () {
  this.timeout(20000);
  let f: Fixture;
  let dir: string;
  before(async () => {
    f = await startFixture();
    dir = mkdtempSync(join(tmpdir(), 'vm-fd-'));
  });
  after(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('client → server (h) and server → client (h in the reply)', async () => {
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'fd content');
    const fd = openSync(file, 'r');
    try {
      const [content, copy] = await f.client.PassFd(fd);
      assert.equal(content, 'fd content');
      assert.notEqual(copy, fd, 'a new descriptor in this process');
      assert.equal(readlinkSync(`/proc/self/fd/${copy}`), file);
      assert.equal(readFileSync(`/proc/self/fd/${copy}`, 'utf8'), 'fd content');
      closeSync(copy);
    } finally {
      closeSync(fd);
    }
  });

  it('h inside a variant, and the int alternative of the same variant', async () => {
    const file = join(dir, 'b.txt');
    writeFileSync(file, 'variant fd');
    const fd = openSync(file, 'r');
    try {
      assert.equal(await f.client.PassFdVariant({ type: 'unixfd', value: fd }), 'variant fd');
      assert.equal(await f.client.PassFdVariant({ type: 'int32', value: -1 }), 'int -1');
    } finally {
      closeSync(fd);
    }
  });

  it('received fds are closed once the handler is done (no leak)', async () => {
    const file = join(dir, 'c.txt');
    writeFileSync(file, 'x');
    const openFds = () => readdirSync('/proc/self/fd').length;
    const fd = openSync(file, 'r');
    await f.client.PassFdVariant({ type: 'unixfd', value: fd }); // warm up
    const before = openFds();
    for (let i = 0; i < 20; i++) await f.client.PassFdVariant({ type: 'unixfd', value: fd });
    closeSync(fd);
    assert.ok(openFds() <= before, `fds grew from ${before} to ${openFds()}`);
  });
});
