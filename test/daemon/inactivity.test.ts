// Stats and the inactivity timeout, with the kernel patch's lun.0/stats file
// played by the test, and without it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './support/daemon-process.js';
import { Harness, ROOT } from './support/harness.js';
import { diskImage } from './support/images.js';

describe('daemon: I/O statistics and inactivity timeout', function () {
  this.timeout(60_000);
  let h: Harness;
  const path = `${ROOT}/Proxy/Slot_0`;
  beforeEach(async () => {
    h = await Harness.create();
    diskImage(join(h.kernel.root, 'disk.img'));
  });
  afterEach(async () => {
    await h.stop();
  });

  async function insert(inactivity: number, withStats: boolean): Promise<number[]> {
    await h.start({ Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock') } }, { InactivityTimeout: inactivity });
    if (withStats) {
      // The patched kernel creates lun.0/stats with the LUN.
      mkdirSync(h.kernel.lunDir('Slot_0'), { recursive: true });
      h.kernel.writeStats('Slot_0', 0, 0);
    }
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    return completions;
  }

  it('publishes ReadIO/WriteIO, counts down while idle, restarts on I/O and ejects at zero', async () => {
    const completions = await insert(3, true);
    const mp = h.mountPoint(path);
    assert.equal(await mp.get('RemainingInactivityTimeout'), 3);
    await eventually('countdown', async () => (await mp.get('RemainingInactivityTimeout')) <= 2, 3000);
    h.kernel.writeStats('Slot_0', 42, 7);
    await eventually('I/O seen', async () => (await h.stats(path).get('ReadIO')) === 42n, 3000);
    assert.equal(await h.stats(path).get('WriteIO'), 7n);
    assert.equal(await mp.get('RemainingInactivityTimeout'), 3, 'I/O restarts the countdown');
    assert.equal(await h.process(path).get('Active'), true);
    assert.equal(await h.nextCompletion(completions, 2, 8000), 0, 'idle medium ejected');
    assert.equal(await h.process(path).get('Active'), false);
    assert.equal(await mp.get('RemainingInactivityTimeout'), 0);
    assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false);
    assert.match(h.daemon!.log(), /ejecting: no I\/O for 3 s/);
  });

  it('without the stats file the timeout is disabled with one warning and the medium stays', async () => {
    const completions = await insert(1, false);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(completions.length, 1, 'not ejected');
    assert.equal(await h.process(path).get('Active'), true);
    assert.equal(await h.mountPoint(path).get('RemainingInactivityTimeout'), 0);
    const warnings = h.daemon!.stderr.filter((l) => l.includes('lun stats'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^<4>/);
  });
});
