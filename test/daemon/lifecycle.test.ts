// The state machine seen over D-Bus: state rules and their errors,
// Completion values, the watchdog, a dying child, concurrency between mount
// points, and running out of UDCs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotAllowed } from '../../bindings/xyz/openbmc_project/Common/error.js';
import { Busy } from '../../bindings/xyz/openbmc_project/VirtualMedia/error.js';
import { Harness, ROOT } from './support/harness.js';
import { diskImage } from './support/images.js';

const ETIMEDOUT = 110;
const ECONNREFUSED = 111;
const EBUSY = 16;

function proxySlots(h: Harness, n: number, timeout = 3) {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`Slot_${i}`, { EndpointId: `/nbd/${i}`, Mode: 0 as const, NBDDevice: `nbd${i}`, UnixSocket: join(h.kernel.run, `nbd${i}.sock`), Timeout: timeout }]),
  );
}

describe('daemon: state machine over D-Bus', function () {
  this.timeout(60_000);
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.create();
    diskImage(join(h.kernel.root, 'disk.img'));
  });
  afterEach(async () => {
    await h.stop();
  });

  it('EPERM rules: Mount while active and Unmount while ready are NotAllowed; EBUSY while activating', async () => {
    await h.start(proxySlots(h, 1, 1));
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await assert.rejects(() => proxy.Unmount(), (e) => e instanceof NotAllowed);
    h.kernel.setFakeMode('nbd0', 'hang');
    assert.equal(await proxy.Mount(), true);
    await assert.rejects(() => proxy.Mount(), (e) => e instanceof Busy);
    await assert.rejects(() => proxy.Unmount(), (e) => e instanceof Busy);
    assert.equal(completions.length, 0, 'no Completion before the work ends');
    // Let the watchdog end it, then mount for real.
    assert.equal(await h.nextCompletion(completions, 1, 15_000), ETIMEDOUT);
    h.kernel.setFakeMode('nbd0', 'normal');
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    assert.equal(await proxy.Mount(), true);
    assert.equal(await h.nextCompletion(completions, 2), 0, h.daemon!.log());
    await assert.rejects(() => proxy.Mount(), (e) => e instanceof NotAllowed);
    assert.equal(await proxy.Unmount(), true);
    await assert.rejects(() => proxy.Unmount(), (e) => e instanceof Busy);
    assert.equal(await h.nextCompletion(completions, 3), 0);
    await assert.rejects(() => proxy.Unmount(), (e) => e instanceof NotAllowed);
  });

  it('a supervised child that dies sets ExitCode, ejects and reports ECONNREFUSED', async () => {
    await h.start(proxySlots(h, 1));
    h.kernel.setFakeMode('nbd0', 'die');
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    const proxy = h.proxy('Slot_0');
    const path = `${ROOT}/Proxy/Slot_0`;
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    assert.equal(await h.nextCompletion(completions, 2), ECONNREFUSED);
    assert.equal(await h.process(path).get('ExitCode'), 3);
    assert.equal(await h.process(path).get('Active'), false);
    assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false, 'gadget removed after the death');
  });

  it('bmcweb going away (its NBD server closes) ejects the medium: the normal end of a proxy medium, Completion 0', async () => {
    await h.start(proxySlots(h, 1));
    const server = await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    server.kill('SIGKILL');
    // nbd-client exits 0 when its server goes away; in proxy mode that is
    // how every medium ends (bmcweb closes the socket when its websocket does).
    assert.equal(await h.nextCompletion(completions, 2), 0, h.daemon!.log());
    assert.equal(await h.process(`${ROOT}/Proxy/Slot_0`).get('ExitCode'), 0);
    assert.match(h.daemon!.log(), /the proxy peer closed the connection/);
    assert.equal(h.kernel.size('nbd0'), 0);
  });

  it('mount points work concurrently, each on its own UDC; with none free the Completion is EBUSY', async () => {
    await h.start(proxySlots(h, 3));
    const clients = [0, 1, 2].map((i) => h.proxy(`Slot_${i}`));
    const lists = await Promise.all(clients.map((c) => h.watchCompletions(c)));
    for (let i = 0; i < 3; i++) await h.serveOnSocket(join(h.kernel.run, `nbd${i}.sock`), join(h.kernel.root, 'disk.img'));
    const results = await Promise.all(clients.map((c) => c.Mount()));
    assert.deepEqual(results, [true, true, true]);
    const completions = await Promise.all(lists.map((l) => h.nextCompletion(l, 1)));
    assert.deepEqual([...completions].sort(), [0, 0, EBUSY], h.daemon!.log());
    const udcs = [0, 1, 2].filter((i) => completions[i] === 0).map((i) => readFileSync(join(h.kernel.gadgetDir(`Slot_${i}`), 'UDC'), 'utf8'));
    assert.deepEqual(udcs.sort(), ['fake-udc.0', 'fake-udc.1']);
    const failed = completions.indexOf(EBUSY);
    assert.equal(existsSync(h.kernel.gadgetDir(`Slot_${failed}`)), false);
    assert.equal(h.kernel.size(`nbd${failed}`), 0, 'the failed insertion released its nbd device');
  });

  it('a configured Udc is used', async () => {
    await h.start(proxySlots(h, 1), { Udc: 'fake-udc.1' });
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    assert.equal(readFileSync(join(h.kernel.gadgetDir('Slot_0'), 'UDC'), 'utf8'), 'fake-udc.1');
    await proxy.Unmount();
    assert.equal(await h.nextCompletion(completions, 2), 0);
  });

  it('a configured Udc that does not exist fails the insertion with EINVAL and cleans up', async () => {
    await h.start(proxySlots(h, 1), { Udc: 'fake-udc.9' });
    await h.serveOnSocket(join(h.kernel.run, 'nbd0.sock'), join(h.kernel.root, 'disk.img'));
    const proxy = h.proxy('Slot_0');
    const completions = await h.watchCompletions(proxy);
    await proxy.Mount();
    assert.equal(await h.nextCompletion(completions, 1), 22);
    assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false);
    assert.equal(h.kernel.size('nbd0'), 0);
  });
});
