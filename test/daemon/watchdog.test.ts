// Every step of an insertion or ejection under the watchdog (Timeout + 5 s):
// whatever hangs (mount.cifs, umount, nbdkit that never serves, nbd-client
// that never attaches, a configfs write), the Completion comes, everything
// started is killed with its process group, and the next Mount works.
// Timeouts here only guard against hangs: nothing is timed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Harness, ROOT } from './support/harness.js';
import { eventually } from './support/daemon-process.js';
import { FAKE_NBD_CLIENT } from './support/fake-kernel.js';
import { diskImage, isoImage } from './support/images.js';
import { alive } from './support/process-alive.js';
import { makePki, startImageServer, type ImageServer } from './support/tls-server.js';

const ETIMEDOUT = 110;
const TIMEOUT = 2; // seconds: the watchdog fires after 7 s
/** Hang guard for one Completion: the watchdog plus a generous allowance for the urgent teardown and a loaded machine. */
const GUARD_MS = (TIMEOUT + 5 + 20) * 1000;
const FAKE_NBDKIT_HANG = fileURLToPath(new URL('./fixtures/fake-nbdkit-hang.mjs', import.meta.url));

describe('daemon: the watchdog bounds every step', function () {
  this.timeout(120_000);
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.create();
  });
  afterEach(async () => {
    await h.stop();
  });

  const pidsIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map(Number) : []);
  const assertAllDead = async (pids: number[], what: string) => {
    assert.ok(pids.length >= 2, `${what}: the hanging program and its grandchild were recorded`);
    await eventually(`${what}: every process of the group gone`, () => pids.every((p) => !alive(p)), 10_000);
  };

  describe('legacy SMB', () => {
    const path = `${ROOT}/Legacy/Slot_1`;
    beforeEach(async () => {
      mkdirSync(join(h.kernel.root, 'smb/nas/images'), { recursive: true });
      isoImage(join(h.kernel.root, 'smb/nas/images/os.iso'));
      await h.start({ Slot_1: { Mode: 1, NBDDevice: 'nbd1', UnixSocket: join(h.kernel.run, 'nbd1.sock'), Timeout: TIMEOUT } });
    });

    it('mount.cifs that never returns: ETIMEDOUT, mount and its children killed, the next Mount works', async () => {
      writeFileSync(join(h.kernel.root, 'smb/hang-mount'), '');
      const legacy = h.legacy('Slot_1');
      const completions = await h.watchCompletions(legacy);
      assert.equal(await legacy.Mount('smb://nas/images/os.iso', false, { type: 'int32', value: -1 }), true);
      assert.equal(await h.nextCompletion(completions, 1, GUARD_MS), ETIMEDOUT, h.daemon!.log());
      await assertAllDead(pidsIn(join(h.kernel.root, 'hang-pids')), 'mount.cifs');
      await assert.rejects(() => legacy.Unmount(), /NotAllowed|no medium/, 'the mount point is ready, not Busy');
      rmSync(join(h.kernel.root, 'smb/hang-mount'));
      assert.equal(await legacy.Mount('smb://nas/images/os.iso', false, { type: 'int32', value: -1 }), true);
      assert.equal(await h.nextCompletion(completions, 2, GUARD_MS), 0, h.daemon!.log());
      assert.equal(await h.process(path).get('Active'), true);
    });

    it('umount that never returns during an ejection: ETIMEDOUT, umount killed, the share detached lazily, the next Mount works', async () => {
      const legacy = h.legacy('Slot_1');
      const completions = await h.watchCompletions(legacy);
      await legacy.Mount('smb://nas/images/os.iso', false, { type: 'int32', value: -1 });
      assert.equal(await h.nextCompletion(completions, 1, GUARD_MS), 0, h.daemon!.log());
      writeFileSync(join(h.kernel.root, 'smb/hang-umount'), '');
      assert.equal(await legacy.Unmount(), true);
      assert.equal(await h.nextCompletion(completions, 2, GUARD_MS), ETIMEDOUT, h.daemon!.log());
      await assertAllDead(pidsIn(join(h.kernel.root, 'hang-pids')), 'umount');
      assert.equal(readFileSync(h.kernel.mountInfo, 'utf8').includes(' cifs '), false, 'umount -l detached the share');
      assert.equal(await h.process(path).get('Active'), false);
      rmSync(join(h.kernel.root, 'smb/hang-umount'));
      await legacy.Mount('smb://nas/images/os.iso', false, { type: 'int32', value: -1 });
      assert.equal(await h.nextCompletion(completions, 3, GUARD_MS), 0, h.daemon!.log());
    });
  });

  describe('legacy HTTPS', () => {
    let server: ImageServer;
    afterEach(async () => {
      await server?.close();
    });

    it('nbdkit that never starts serving: ETIMEDOUT, its process group killed, the next Mount works', async () => {
      const pki = makePki(h.kernel.root);
      server = await startImageServer(pki, { '/disk.img': diskImage(join(h.kernel.root, 'disk.img')) });
      const hangingNbdkit = join(h.kernel.root, 'nbdkit-switch');
      // A switch in front of the real nbdkit: hang while the marker exists.
      writeFileSync(hangingNbdkit, `#!/bin/sh\nif [ -e "${hangingNbdkit}.hang" ]; then exec "${process.execPath}" "${FAKE_NBDKIT_HANG}" "$@"; fi\nexec nbdkit "$@"\n`, { mode: 0o755 });
      writeFileSync(`${hangingNbdkit}.hang`, '');
      await h.start({ Slot_2: { Mode: 1, NBDDevice: 'nbd2', UnixSocket: join(h.kernel.run, 'nbd2.sock'), Timeout: TIMEOUT } }, { TlsCaFile: pki.caFile, Commands: { Nbdkit: hangingNbdkit, NbdClient: FAKE_NBD_CLIENT, Mount: 'mount', Umount: 'umount' } });
      const legacy = h.legacy('Slot_2');
      const completions = await h.watchCompletions(legacy);
      await legacy.Mount(server.url('/disk.img'), false, { type: 'int32', value: -1 });
      assert.equal(await h.nextCompletion(completions, 1, GUARD_MS), ETIMEDOUT, h.daemon!.log());
      await assertAllDead(pidsIn(join(h.kernel.run, 'Slot_2.nbdkit.pid.hang-pids')), 'nbdkit');
      rmSync(`${hangingNbdkit}.hang`);
      await legacy.Mount(server.url('/disk.img'), false, { type: 'int32', value: -1 });
      assert.equal(await h.nextCompletion(completions, 2, GUARD_MS), 0, h.daemon!.log());
    });
  });

  describe('proxy', () => {
    const socket = () => join(h.kernel.run, 'nbd0.sock');
    beforeEach(async () => {
      await h.start({ Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: socket(), Timeout: TIMEOUT } });
      diskImage(join(h.kernel.root, 'disk.img'));
      await h.serveOnSocket(socket(), join(h.kernel.root, 'disk.img'));
    });

    it('nbd-client that never attaches: ETIMEDOUT, nbd-client stopped, the next Mount works', async () => {
      h.kernel.setFakeMode('nbd0', 'hang');
      const proxy = h.proxy('Slot_0');
      const completions = await h.watchCompletions(proxy);
      await proxy.Mount();
      await eventually('nbd-client started', () => h.kernel.nbdClientPid('nbd0') !== undefined);
      const pid = h.kernel.nbdClientPid('nbd0');
      assert.equal(await h.nextCompletion(completions, 1, GUARD_MS), ETIMEDOUT, h.daemon!.log());
      assert.equal(alive(pid), false, 'the stuck nbd-client was stopped');
      assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false);
      assert.equal(await h.process(`${ROOT}/Proxy/Slot_0`).get('Active'), false);
      h.kernel.setFakeMode('nbd0', 'normal');
      await proxy.Mount();
      assert.equal(await h.nextCompletion(completions, 2, GUARD_MS), 0, h.daemon!.log());
    });

    it('a configfs write that never completes: ETIMEDOUT, the daemon keeps answering meanwhile, the gadget is removed, the next Mount works', async () => {
      // A FIFO in place of lun.0/file: opening it for writing blocks until a
      // reader comes, as a write the kernel never completes would.
      const lun = h.kernel.lunDir('Slot_0');
      mkdirSync(lun, { recursive: true });
      execFileSync('mkfifo', [join(lun, 'file')]);
      const proxy = h.proxy('Slot_0');
      const completions = await h.watchCompletions(proxy);
      await proxy.Mount();
      await eventually('the insertion reached the gadget', () => h.kernel.nbdClientPid('nbd0') !== undefined && readFileSync(join(h.kernel.sys, 'block/nbd0/size'), 'utf8').trim() !== '0', 10_000);
      // The daemon still answers while the write hangs.
      assert.equal(await h.mountPoint(`${ROOT}/Proxy/Slot_0`).get('EndpointId'), '/nbd/0');
      assert.equal(await h.nextCompletion(completions, 1, GUARD_MS), ETIMEDOUT, h.daemon!.log());
      assert.equal(existsSync(h.kernel.gadgetDir('Slot_0')), false, `the half-built gadget was removed:\n${h.daemon!.log()}`);
      await proxy.Mount();
      assert.equal(await h.nextCompletion(completions, 2, GUARD_MS), 0, h.daemon!.log());
    });
  });
});
