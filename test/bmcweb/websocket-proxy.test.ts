// bmcweb's /nbd/<id> websocket in proxy mode, replayed by python3-dbus
// (bmcweb.py): GetAll(MountPoint), unlink Socket, listen, accept, then
// Proxy.Mount(); on close: close the peer, unlink, Proxy.Unmount() (errors
// only logged). A local nbdkit plays the browser at the websocket's far end.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, ROOT } from '../daemon/support/harness.js';
import { eventually } from '../daemon/support/daemon-process.js';
import { diskImage } from '../daemon/support/images.js';
import { BmcwebReplay } from './replay.js';

describe('bmcweb replay (python3-dbus): the /nbd websocket in proxy mode', function () {
  this.timeout(120_000);
  let h: Harness;
  let bmcweb: BmcwebReplay;
  let browser: string;
  let image: Buffer;
  const path = `${ROOT}/Proxy/Slot_0`;

  beforeEach(async () => {
    h = await Harness.create();
    await h.start({ Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock'), Timeout: 3 } });
    image = diskImage(join(h.kernel.root, 'disk.img'));
    browser = join(h.kernel.root, 'browser.sock');
    await h.serveOnSocket(browser, join(h.kernel.root, 'disk.img'));
    bmcweb = await BmcwebReplay.start(h.bus.address);
  });
  afterEach(async () => {
    await bmcweb?.stop();
    await h?.stop();
  });

  const ready = async () => {
    await eventually('the mount point is ready again', async () => (await h.process(path).get('Active')) === false && !existsSync(join(h.kernel.gadgetDir('Slot_0'))), 20_000);
  };

  it('open → Completion(0), the medium is the browser\'s file; close → peer closed, socket removed, ejected', async () => {
    const completions = await h.watchCompletions(h.proxy('Slot_0'));
    const opened = await bmcweb.ok<{ endpoint: string; socket: string; mounted: boolean }>('ws_open', { id: 'Slot_0', browser });
    assert.deepEqual(opened, { endpoint: '/nbd/0', socket: join(h.kernel.run, 'nbd0.sock'), mounted: true });
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    assert.equal(await h.process(path).get('Active'), true);
    assert.deepEqual(readFileSync(join(h.kernel.dev, 'nbd0')), image);
    const closed = await bmcweb.ok<Record<string, unknown>>('ws_close', { id: 'Slot_0' });
    // The daemon may see nbd-client lose its server before bmcweb's Unmount
    // arrives or after: either way the Unmount is answered true and the
    // ejection completes with 0, once.
    assert.deepEqual(closed, { unmounted: true }, h.daemon!.log());
    await ready();
    assert.equal(existsSync(join(h.kernel.run, 'nbd0.sock')), false, 'bmcweb removed its socket');
    assert.equal(await h.nextCompletion(completions, 2), 0, h.daemon!.log());
    assert.deepEqual(completions, [0, 0], h.daemon!.log());
  });

  it('bmcweb\'s Unmount arriving after the daemon saw the peer close and ejected: answered true, one Completion(0), ExitCode 0', async () => {
    const completions = await h.watchCompletions(h.proxy('Slot_0'));
    await bmcweb.ok('ws_open', { id: 'Slot_0', browser });
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    // The websocket closes; bmcweb's Unmount is late (a busy BMC).
    await bmcweb.ok('ws_close', { id: 'Slot_0', unmount: false });
    await ready();
    assert.equal(await h.nextCompletion(completions, 2), 0, 'the peer closing is the normal end of a proxy medium');
    assert.equal(await h.process(path).get('ExitCode'), 0);
    assert.deepEqual(await bmcweb.ok('ws_unmount', { id: 'Slot_0' }), { unmounted: true });
    assert.match(h.daemon!.log(), /Unmount after the proxy peer closed: already ejected/);
    assert.doesNotMatch(h.daemon!.log(), /exited unexpectedly/);
    // Only once: a second Unmount with nothing inserted is NotAllowed, as always.
    assert.deepEqual(await bmcweb.ok('ws_unmount', { id: 'Slot_0' }), { unmount_error: 'xyz.openbmc_project.Common.Error.NotAllowed' });
    assert.deepEqual(completions, [0, 0]);
  });

  it('the websocket closes before nbd-client connects, and Unmount arrives while still activating: the mount point recovers without the watchdog', async () => {
    const completions = await h.watchCompletions(h.proxy('Slot_0'));
    // No browser behind the socket: the websocket went away at once.
    await bmcweb.ok('ws_open', { id: 'Slot_0', browser: null });
    const closed = await bmcweb.ok<Record<string, unknown>>('ws_close', { id: 'Slot_0' });
    // Busy while the insertion runs (NotAllowed only if it already failed, on a very slow machine): bmcweb logs either.
    assert.ok(['xyz.openbmc_project.VirtualMedia.Error.Busy', 'xyz.openbmc_project.Common.Error.NotAllowed'].includes(closed.unmount_error as string), JSON.stringify(closed));
    const errno = await h.nextCompletion(completions, 1);
    assert.notEqual(errno, 0, 'the insertion failed');
    assert.notEqual(errno, 110, 'ended by the lost connection, not by the watchdog');
    await ready();
    // The next websocket works.
    await bmcweb.ok('ws_open', { id: 'Slot_0', browser });
    assert.equal(await h.nextCompletion(completions, 2), 0, h.daemon!.log());
    await bmcweb.ok('ws_close', { id: 'Slot_0' });
    await ready();
  });

  it('reconnects in a loop: five open/close cycles, each inserted and ejected, nothing left behind', async () => {
    const completions = await h.watchCompletions(h.proxy('Slot_0'));
    for (let i = 0; i < 5; i++) {
      await bmcweb.ok('ws_open', { id: 'Slot_0', browser });
      await eventually(`insertion #${i + 1}`, () => completions.length > 0 && completions[completions.length - 1] === 0 && h.kernel && existsSync(h.kernel.gadgetDir('Slot_0')), 20_000);
      await bmcweb.ok('ws_close', { id: 'Slot_0' });
      await ready();
      completions.length = 0;
    }
    assert.equal(readFileSync(join(h.kernel.sys, 'block/nbd0/size'), 'utf8').trim(), '0', 'nbd0 detached');
  });
});
