// Proxy mode end to end on a private bus: bmcweb's part (an NBD server on the
// mount point's socket) played by nbdkit, the kernel's by the fake tree.
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, ROOT } from './support/harness.js';
import { diskImage, isoImage } from './support/images.js';

describe('daemon: proxy mode', function () {
  this.timeout(60_000);
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.create();
  });
  afterEach(async () => {
    await h.stop();
  });

  const proxyConfig = (h: Harness) => ({
    Slot_0: { EndpointId: '/nbd/0', Mode: 0 as const, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock'), Timeout: 3 },
  });

  it('inserts a disk image served on the socket, then ejects it', async () => {
    await h.start(proxyConfig(h));
    const image = diskImage(join(h.kernel.root, 'disk.img'));
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    const proxy = h.proxy('Slot_0');
    const path = `${ROOT}/Proxy/Slot_0`;
    const completions = await h.watchCompletions(proxy);
    assert.equal(await proxy.Mount(), true);
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    assert.equal(await h.process(path).get('Active'), true);
    assert.equal(await h.mountPoint(path).get('WriteProtected'), false);
    const lun = h.kernel.lunDir('Slot_0');
    assert.equal(readFileSync(join(lun, 'file'), 'utf8'), join(h.kernel.dev, 'nbd0'));
    assert.equal(readFileSync(join(lun, 'cdrom'), 'utf8'), '0');
    assert.equal(readFileSync(join(lun, 'ro'), 'utf8'), '0');
    assert.equal(readFileSync(join(lun, 'removable'), 'utf8'), '1');
    assert.equal(readFileSync(join(h.kernel.gadgetDir('Slot_0'), 'UDC'), 'utf8'), 'fake-udc.0');
    assert.equal(readlinkSync(join(h.kernel.gadgetDir('Slot_0'), 'configs/c.1/mass_storage.usb0')), join(h.kernel.gadgetDir('Slot_0'), 'functions/mass_storage.usb0'));
    assert.deepEqual(readFileSync(join(h.kernel.dev, 'nbd0')), image, 'the device holds the served bytes');
    const args = h.kernel.nbdClientArgs('nbd0');
    assert.deepEqual(args, ['-unix', join(h.kernel.run, 'nbd0.sock'), join(h.kernel.dev, 'nbd0'), '-block-size', '512', '-timeout', '3', '-nofork', '-nonetlink']);

    assert.equal(await proxy.Unmount(), true);
    assert.equal(await h.nextCompletion(completions, 2), 0);
    assert.equal(await h.process(path).get('Active'), false);
    assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false, 'gadget removed');
    assert.equal(h.kernel.size('nbd0'), 0, 'nbd detached');
    assert.equal(existsSync(join(h.kernel.run, 'nbd0.sock')), true, "bmcweb's socket is left alone");
  });

  it('offers an ISO 9660 image as a read-only CD-ROM', async () => {
    await h.start(proxyConfig(h));
    isoImage(join(h.kernel.root, 'cd.iso'));
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'cd.iso'));
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    assert.equal(await proxy.Mount(), true);
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    const lun = h.kernel.lunDir('Slot_0');
    assert.equal(readFileSync(join(lun, 'cdrom'), 'utf8'), '1');
    assert.equal(readFileSync(join(lun, 'ro'), 'utf8'), '1');
    assert.equal(await h.mountPoint(`${ROOT}/Proxy/Slot_0`).get('WriteProtected'), true);
  });

  it('reports a read-only export as WriteProtected and binds ro', async () => {
    await h.start(proxyConfig(h));
    diskImage(join(h.kernel.root, 'disk.img'));
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'), true);
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    assert.equal(readFileSync(join(h.kernel.lunDir('Slot_0'), 'ro'), 'utf8'), '1');
    assert.equal(await h.mountPoint(`${ROOT}/Proxy/Slot_0`).get('WriteProtected'), true);
  });
});
