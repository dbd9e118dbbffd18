// The seams on their own, on plain files: UDC choice (ASPEED vhub port
// order), the mount table, program arguments, configfs removal rules.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../codegen/runtime/index.js';
import { mountOptions, staleCifsMounts } from '../../daemon/src/seams/cifs.js';
import { GadgetSeam } from '../../daemon/src/seams/gadget.js';
import { isIso9660 } from '../../daemon/src/seams/block-device.js';
import { attachArgs } from '../../daemon/src/seams/nbd-client.js';
import { fileArgs, httpsArgs } from '../../daemon/src/seams/nbdkit.js';
import { chooseUdc, listUdcs } from '../../daemon/src/seams/udc.js';
import { OperationError } from '../../daemon/src/util/errno.js';
import { DEFAULT_GADGET } from '../../daemon/src/config/defaults.js';

describe('daemon: seams', () => {
  it('reads the ISO 9660 signature without stopping the event loop: the read crosses the medium\'s link', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'iso-probe-'));
    try {
      // A device whose read waits: a FIFO's open waits for a writer, which comes half a second later.
      const fifo = join(dir, 'nbd0');
      execFileSync('mkfifo', [fifo]);
      const writer = spawn(process.execPath, ['-e', `setTimeout(() => require('node:fs').closeSync(require('node:fs').openSync(${JSON.stringify(fifo)}, 'w')), 500)`], { stdio: 'ignore' });
      const writerGone = new Promise((r) => writer.once('exit', r));
      const order: string[] = [];
      setImmediate(() => order.push('the loop turned'));
      let probe: Promise<unknown>;
      try {
        probe = isIso9660(fifo).then(
          (iso) => order.push(`the probe answered ${iso}`),
          (e: NodeJS.ErrnoException) => order.push(`the probe failed (${e.code})`),
        );
      } catch (e) {
        throw new Error(`isIso9660 threw synchronously, after blocking the loop: ${(e as Error).message}`);
      }
      await probe;
      await writerGone;
      assert.equal(order[0], 'the loop turned', `order: ${JSON.stringify(order)}`);
      assert.equal(order.length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells an ISO 9660 image from another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iso-probe-'));
    try {
      const iso = Buffer.alloc(40960);
      iso.write('\x01CD001', 32768, 'latin1');
      writeFileSync(join(dir, 'cd.iso'), iso);
      writeFileSync(join(dir, 'disk.img'), Buffer.alloc(40960));
      assert.equal(await isIso9660(join(dir, 'cd.iso')), true);
      assert.equal(await isIso9660(join(dir, 'disk.img')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmd-seam-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('UDCs: ASPEED vhub ports in numeric order; the first free one is chosen; a busy configured one is EBUSY', () => {
    for (const p of [10, 2, 1, 5]) mkdirSync(join(dir, 'class/udc', `1e6a0000.usb-vhub:p${p}`), { recursive: true });
    assert.deepEqual(listUdcs(dir), ['1e6a0000.usb-vhub:p1', '1e6a0000.usb-vhub:p2', '1e6a0000.usb-vhub:p5', '1e6a0000.usb-vhub:p10']);
    assert.equal(chooseUdc(dir, undefined, new Set(['1e6a0000.usb-vhub:p1'])), '1e6a0000.usb-vhub:p2');
    assert.equal(chooseUdc(dir, '1e6a0000.usb-vhub:p5', new Set()), '1e6a0000.usb-vhub:p5');
    assert.throws(() => chooseUdc(dir, '1e6a0000.usb-vhub:p5', new Set(['1e6a0000.usb-vhub:p5'])), (e) => e instanceof OperationError && e.errno === 16);
    assert.throws(() => chooseUdc(dir, 'nope', new Set()), (e) => e instanceof OperationError && e.errno === 22);
    assert.throws(() => chooseUdc(join(dir, 'empty'), undefined, new Set()), /no UDC/);
  });

  it('gadget: ids, strings and LUN attributes written, bound UDCs found, removed completely from a plain tree', async () => {
    const seam = new GadgetSeam(dir);
    await seam.create('Slot_0', DEFAULT_GADGET, { devicePath: '/dev/nbd0', readOnly: true, cdrom: true });
    await seam.bind('Slot_0', 'udc.0');
    const g = join(dir, 'usb_gadget/virtual-media.Slot_0');
    assert.equal(readFileSync(join(g, 'idVendor'), 'utf8'), '0x1d6b');
    assert.equal(readFileSync(join(g, 'idProduct'), 'utf8'), '0x0104');
    assert.equal(readFileSync(join(g, 'strings/0x409/serialnumber'), 'utf8'), 'OBMCSlot_0');
    assert.equal(readFileSync(join(g, 'functions/mass_storage.usb0/lun.0/cdrom'), 'utf8'), '1');
    assert.deepEqual([...(await seam.boundUdcs())], ['udc.0']);
    mkdirSync(join(dir, 'usb_gadget/other'));
    writeFileSync(join(dir, 'usb_gadget/other/UDC'), 'udc.1\n');
    assert.deepEqual([...(await seam.boundUdcs())].sort(), ['udc.0', 'udc.1']);
    assert.deepEqual(await seam.ours(), ['virtual-media.Slot_0']);
    await seam.remove('Slot_0');
    assert.equal(existsSync(g), false);
    await seam.remove('Slot_0'); // twice is fine
  });

  it('gadget: choosing a UDC while another gadget\'s UDC attribute does not answer gives up with the signal, and the event loop keeps turning', async function () {
    this.timeout(60_000);
    const seam = new GadgetSeam(dir);
    // Another gadget whose UDC attribute blocks on open, as configfs does while the kernel holds the gadget's lock.
    mkdirSync(join(dir, 'usb_gadget/stuck'), { recursive: true });
    const attribute = join(dir, 'usb_gadget/stuck/UDC');
    execFileSync('mkfifo', [attribute]);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      const chosen = seam.bindChosen('Slot_0', () => 'udc.0', AbortSignal.timeout(300));
      await assert.rejects(chosen, (e: Error) => e.name === 'TimeoutError');
      assert.ok(ticks >= 1, `the event loop turned ${ticks} times while the attribute blocked`);
      assert.equal(existsSync(join(dir, 'usb_gadget/virtual-media.Slot_0/UDC')), false, 'nothing was bound');
    } finally {
      clearInterval(ticker);
      // Let the worker thread blocked in open() go: O_RDWR on a FIFO opens at once and gives it its writer.
      closeSync(openSync(attribute, 'r+'));
    }
  });

  it('mount table: only cifs mounts below our run directory, octal escapes decoded', () => {
    const info = join(dir, 'mountinfo');
    writeFileSync(
      info,
      [
        '36 25 0:31 / /run/virtual-media/cifs/Slot_1 rw,relatime shared:1 - cifs //nas/images rw,vers=3.1.1',
        '37 25 0:32 / /run/virtual-media/cifs/With\\040space rw - cifs //nas/x rw',
        '38 25 0:33 / /mnt/other rw - cifs //nas/y rw',
        '39 25 0:34 / /run/virtual-media/cifs/tmp rw - tmpfs tmpfs rw',
      ].join('\n'),
    );
    assert.deepEqual(staleCifsMounts(info, '/run/virtual-media'), ['/run/virtual-media/cifs/Slot_1', '/run/virtual-media/cifs/With space']);
    assert.deepEqual(staleCifsMounts(join(dir, 'missing'), '/run/virtual-media'), []);
  });

  it('program arguments: no password argument without credentials, readonly flags, CIFS options', () => {
    const common = { command: 'nbdkit', socket: '/run/s.sock', pidFile: '/run/p', readOnly: true, log: silentLogger };
    const https = httpsArgs(common, { url: 'https://h/i.iso', user: undefined, password: undefined, caFile: '/ca.pem', caPath: '/certs', streaming: { filters: [], pluginParams: ['timeout=9'], filterParams: [], notes: [] } });
    assert.deepEqual(https, ['--foreground', '--exit-with-parent', '--unix', '/run/s.sock', '--pidfile', '/run/p', '--readonly', 'curl', 'url=https://h/i.iso', 'protocols=https', 'timeout=9', 'cainfo=/ca.pem', 'capath=/certs']);
    assert.deepEqual(fileArgs({ ...common, readOnly: false }, '/mnt/x.img'), ['--foreground', '--exit-with-parent', '--unix', '/run/s.sock', '--pidfile', '/run/p', 'file', 'file=/mnt/x.img']);
    assert.deepEqual(attachArgs({ command: 'nbd-client', devRoot: '/dev', log: silentLogger }, 'nbd3', '/run/s.sock', 4096, 60, true), [
      '-unix', '/run/s.sock', '/dev/nbd3', '-block-size', '4096', '-timeout', '60', '-nofork', '-nonetlink', '-readonly',
    ]);
    assert.equal(mountOptions({ unc: '//h/s', user: undefined, password: undefined, readWrite: false }, '3', undefined), 'ro,seal,vers=3,nosuid,nodev,noexec,guest');
    assert.equal(mountOptions({ unc: '//h/s', user: 'u', password: 'p', readWrite: true }, '3.1.1', '/run/.c'), 'rw,seal,vers=3.1.1,nosuid,nodev,noexec,credentials=/run/.c');
  });
});
