// SIGTERM ejects everything and exits 0; a start after a crash removes what
// the crashed run left (gadgets, nbd attachments, sockets, pid and credential
// files, CIFS mounts) and nothing that is not ours.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './support/daemon-process.js';
import { Harness } from './support/harness.js';
import { diskImage } from './support/images.js';
import { secretPipe, secret } from './support/secret-pipe.js';
import { makePki, startImageServer } from './support/tls-server.js';
import { alive } from './support/process-alive.js';

describe('daemon: SIGTERM and stale state', function () {
  this.timeout(60_000);
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.create();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('SIGTERM ejects every medium (proxy and legacy), stops every child and exits 0', async () => {
    const pki = makePki(h.kernel.root);
    const image = diskImage(join(h.kernel.root, 'disk.img'));
    const server = await startImageServer(pki, { '/disk.img': image });
    try {
      await h.start(
        {
          Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock') },
          Slot_1: { Mode: 1, NBDDevice: 'nbd1', UnixSocket: join(h.kernel.run, 'nbd1.sock') },
        },
        { TlsCaFile: pki.caFile },
      );
      await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
      const proxy = h.proxy('Slot_0');
      const legacy = h.legacy('Slot_1');
      const pc = await h.watchCompletions(proxy);
      const lc = await h.watchCompletions(legacy);
      await proxy.Mount();
      const pipe = secretPipe(h.kernel.root, secret('bob', 'hunter2'));
      await legacy.Mount(server.url('/disk.img'), false, { type: 'unixfd', value: pipe.fd });
      pipe.close();
      assert.equal(await h.nextCompletion(pc, 1), 0, h.daemon!.log());
      assert.equal(await h.nextCompletion(lc, 1), 0, h.daemon!.log());
      const pids = [h.kernel.nbdClientPid('nbd0'), h.kernel.nbdClientPid('nbd1'), Number(readFileSync(join(h.kernel.run, 'Slot_1.nbdkit.pid'), 'utf8'))];
      assert.ok(pids.every(alive));

      const code = await h.daemon!.stop('SIGTERM');
      assert.equal(code, 0, h.daemon!.log());
      for (const id of ['Slot_0', 'Slot_1']) assert.equal(existsSync(h.kernel.gadgetDir(id)), false, `${id} gadget removed`);
      assert.equal(h.kernel.size('nbd0'), 0);
      assert.equal(h.kernel.size('nbd1'), 0);
      await eventually('children gone', () => !pids.some(alive), 5000);
      assert.equal(existsSync(join(h.kernel.run, 'nbd1.sock')), false, 'the legacy socket is removed');
      assert.equal(existsSync(join(h.kernel.run, 'nbd0.sock')), true, "bmcweb's proxy socket is not ours to remove");
      assert.match(h.daemon!.log(), /<6>SIGTERM received/);
    } finally {
      await server.close();
    }
  });

  it('SIGTERM during a stuck insertion cancels it (Completion ECANCELED), stops the child and exits 0', async () => {
    await h.start({ Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock'), Timeout: 60 } });
    h.kernel.setFakeMode('nbd0', 'hang');
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    await eventually('nbd-client started', () => h.kernel.nbdClientPid('nbd0') !== undefined);
    const pid = h.kernel.nbdClientPid('nbd0');
    assert.equal(await h.daemon!.stop('SIGTERM'), 0, h.daemon!.log());
    await eventually('Completion delivered', () => completions.length === 1, 3000);
    // ECANCELED, not the watchdog's ETIMEDOUT (60 s away): the stop cancelled the insertion itself.
    assert.equal(completions[0], 125);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false);
  });

  it('losing the bus ejects every medium and exits 1 (systemd restarts it)', async () => {
    await h.start({ Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock') } });
    diskImage(join(h.kernel.root, 'disk.img'));
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    await h.bus.stop();
    const code = await Promise.race([h.daemon!.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    assert.equal(code, 1, h.daemon!.log());
    assert.match(h.daemon!.log(), /<3>lost the D-Bus connection/);
    assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false, 'medium ejected');
    assert.equal(h.kernel.size('nbd0'), 0);
  });

  it('cleans what a crashed run left and leaves foreign gadgets alone', async () => {
    const k = h.kernel;
    // Our gadget, bound, as a crashed run leaves it.
    const stale = k.gadgetDir('Slot_0');
    mkdirSync(join(stale, 'functions/mass_storage.usb0/lun.0'), { recursive: true });
    mkdirSync(join(stale, 'configs/c.1/strings/0x409'), { recursive: true });
    writeFileSync(join(stale, 'UDC'), 'fake-udc.0');
    writeFileSync(join(stale, 'functions/mass_storage.usb0/lun.0/file'), join(k.dev, 'nbd0'));
    // Someone else's gadget.
    const foreign = join(k.configfs, 'usb_gadget/hid-keyboard');
    mkdirSync(foreign, { recursive: true });
    writeFileSync(join(foreign, 'UDC'), 'fake-udc.1');
    // nbd devices still attached, a legacy socket, pid and credential files, a CIFS mount.
    writeFileSync(join(k.sys, 'block/nbd0/size'), '2048\n');
    writeFileSync(join(k.sys, 'block/nbd1/size'), '2048\n');
    writeFileSync(join(k.run, 'nbd1.sock'), '');
    writeFileSync(join(k.run, 'Slot_1.nbdkit.pid'), '12345');
    writeFileSync(join(k.run, '.Slot_1.cred'), 'username=x\npassword=y\n');
    mkdirSync(join(k.run, 'cifs/Slot_1'), { recursive: true });
    appendFileSync(k.mountInfo, `99 1 0:99 / ${join(k.run, 'cifs/Slot_1')} rw,relatime - cifs //nas/images rw\n`);
    appendFileSync(k.mountInfo, `98 1 0:98 / /mnt/other rw,relatime - cifs //nas/other rw\n`);

    await h.start({
      Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(k.run, 'nbd0.sock') },
      Slot_1: { Mode: 1, NBDDevice: 'nbd1', UnixSocket: join(k.run, 'nbd1.sock') },
    });
    assert.equal(existsSync(stale), false, 'our stale gadget removed');
    assert.equal(readFileSync(join(foreign, 'UDC'), 'utf8'), 'fake-udc.1', 'foreign gadget untouched');
    assert.equal(k.size('nbd0'), 0);
    assert.equal(k.size('nbd1'), 0);
    for (const f of ['nbd1.sock', 'Slot_1.nbdkit.pid', '.Slot_1.cred', 'cifs/Slot_1']) assert.equal(existsSync(join(k.run, f)), false, `${f} removed`);
    const mountLog = readFileSync(join(k.root, 'mount-log'), 'utf8');
    assert.match(mountLog, /"op":"umount","args":\[".*cifs\/Slot_1"\]/);
    assert.doesNotMatch(mountLog, /mnt\/other/);
    const log = h.daemon!.log();
    assert.match(log, /<4>removing the gadget virtual-media\.Slot_0 left by a previous run/);
    // No nbd-client runs for nbd0 (sysfs has no pid of a live one): its
    // connection is dead, and it is detached before the gadget goes, so a
    // read the gadget waits on fails instead of holding the unbind.
    assert.ok(log.indexOf('Slot_0: detaching /dev/nbd0') < log.indexOf('removing the gadget virtual-media.Slot_0'), log);
  });

  it('detaches a stale nbd device whose nbd-client still runs only after its gadget is gone (closing the LUN flushes what the host wrote)', async () => {
    const k = h.kernel;
    const stale = k.gadgetDir('Slot_0');
    mkdirSync(join(stale, 'functions/mass_storage.usb0/lun.0'), { recursive: true });
    writeFileSync(join(stale, 'UDC'), 'fake-udc.0');
    writeFileSync(join(stale, 'functions/mass_storage.usb0/lun.0/file'), join(k.dev, 'nbd0'));
    writeFileSync(join(k.sys, 'block/nbd0/size'), '2048\n');
    // The kernel's pid of the process in NBD_DO_IT: one that runs (this one stands in).
    writeFileSync(join(k.sys, 'block/nbd0/pid'), `${process.pid}\n`);
    await h.start({ Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(k.run, 'nbd0.sock') } });
    assert.equal(existsSync(stale), false, 'our stale gadget removed');
    assert.equal(k.size('nbd0'), 0);
    const log = h.daemon!.log();
    const removing = log.indexOf('removing the gadget virtual-media.Slot_0');
    assert.ok(removing >= 0 && removing < log.indexOf('Slot_0: detaching /dev/nbd0'), log);
  });

  it("reports a missing proxy socket directory at start (bmcweb's to make) without creating it", async () => {
    const missing = join(h.kernel.root, 'no-proxy-dir');
    await h.start({
      Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(missing, 'nbd0.sock') },
      Slot_1: { EndpointId: '/nbd/1', Mode: 0, NBDDevice: 'nbd1', UnixSocket: join(h.kernel.run, 'nbd1.sock') },
    });
    const log = h.daemon!.log();
    assert.ok(log.includes(`<4>Slot_0: ${missing} does not exist, so bmcweb cannot listen on ${join(missing, 'nbd0.sock')}`), log);
    assert.doesNotMatch(log, /Slot_1: .* does not exist/);
    assert.equal(existsSync(missing), false, 'not created: made by root it would lock out a non-root bmcweb');
  });
});
