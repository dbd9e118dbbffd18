// Configfs writes the kernel never completes (an eject waiting for I/O on a
// dead backend, a UDC that does not answer) each hold one of libuv's worker
// threads until the kernel lets go: the daemon's watchdog abandons the
// operation, not the thread. With libuv's default of four threads, four such
// writes would leave every other medium's configfs and file work queued
// behind them. The shipped unit sets the pool's size; the daemon runs here
// with the unit's environment (test/daemon/support/unit-environment.ts).
// Timeouts here only guard against hangs: nothing is timed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, ROOT } from './support/harness.js';
import { eventually } from './support/daemon-process.js';
import { diskImage } from './support/images.js';
import { unitEnvironment } from './support/unit-environment.js';

const ETIMEDOUT = 110;
const TIMEOUT = 2; // seconds: the watchdog fires after 7 s
const GUARD_MS = (TIMEOUT + 5 + 20) * 1000;
/** As many stuck writes as libuv's default pool has threads. */
const STUCK = 4;
const slots = Array.from({ length: STUCK + 1 }, (_, i) => `Slot_${i}`);

describe('daemon: configfs writes the kernel never completes', function () {
  this.timeout(180_000);
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.create(slots.map((_, i) => `fake-udc.${i}`));
  });
  afterEach(async () => {
    await h.stop();
  });

  it('the shipped unit gives libuv more worker threads than its default of four', () => {
    const set = unitEnvironment().UV_THREADPOOL_SIZE;
    const size = Number(set);
    assert.ok(Number.isInteger(size) && size > STUCK, `UV_THREADPOOL_SIZE in the unit is ${set}`);
  });

  it(`${STUCK} media stuck in a configfs write: each ends with ETIMEDOUT, and a fifth medium inserts meanwhile`, async () => {
    const socket = (slot: string) => join(h.kernel.run, `${slot}.sock`);
    await h.start(Object.fromEntries(slots.map((slot, i) => [slot, { EndpointId: `/nbd/${i}`, Mode: 0, NBDDevice: `nbd${i}`, UnixSocket: socket(slot), Timeout: TIMEOUT }])));
    const image = join(h.kernel.root, 'disk.img');
    diskImage(image);
    for (const slot of slots) await h.serveOnSocket(socket(slot), image);
    const completions = new Map<string, number[]>();
    for (const slot of slots) completions.set(slot, await h.watchCompletions(h.proxy(slot)));

    // A FIFO in place of lun.0/file: opening it for writing blocks until a reader comes, which
    // never does, as a write the kernel never completes would.
    const stuck = slots.slice(0, STUCK);
    for (const slot of stuck) {
      mkdirSync(h.kernel.lunDir(slot), { recursive: true });
      execFileSync('mkfifo', [join(h.kernel.lunDir(slot), 'file')]);
      await h.proxy(slot).Mount();
    }
    for (const [i, slot] of stuck.entries()) {
      await eventually(`${slot}'s insertion reached the gadget`, () => readFileSync(join(h.kernel.sys, `block/nbd${i}/size`), 'utf8').trim() !== '0', 15_000);
    }

    const free = slots[STUCK]!;
    await h.proxy(free).Mount();
    assert.equal(await h.nextCompletion(completions.get(free)!, 1, GUARD_MS), 0, `the fifth medium:\n${h.daemon!.log()}`);
    assert.equal(await h.process(`${ROOT}/Proxy/${free}`).get('Active'), true);
    for (const slot of stuck) assert.equal(await h.nextCompletion(completions.get(slot)!, 1, GUARD_MS), ETIMEDOUT, `${slot}:\n${h.daemon!.log()}`);
  });
});
