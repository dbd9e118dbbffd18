// The demo's guest side, run inside the qemu VM by scripts/demo/vm-demo.ts:
// serve a sample ISO over local HTTPS, have systemd start the installed
// daemon from the layer's unit on the system bus,
// insert the ISO through the generated typed client as bmcweb would, and
// show what the host side of the USB cable sees. Lines starting with
// "DEMO " are shown by the host; everything else is progress detail.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as rt from '../../codegen/runtime/index.js';
import { LegacyClient, MountPointClient, StatsClient, SERVICE, legacyPath } from '../../client/index.js';
import { DAEMON_VISIBLE_DIR, SystemdDaemon, httpsServers, makeCa } from '../../test/e2e/guest/daemon/fixtures.js';
import { run, waitForUsbDevice } from '../../test/e2e/guest/daemon/kernel-view.js';

const say = (s: string) => process.stdout.write(`DEMO ${s}\n`);

/** A sample installer-like ISO: a readme, a boot directory and 24 MiB of payload to stream. */
async function sampleIso(dir: string): Promise<{ path: string; bytes: number; sha256: string }> {
  const tree = join(dir, 'sample.tree');
  mkdirSync(join(tree, 'boot'), { recursive: true });
  writeFileSync(join(tree, 'hello.txt'), 'Hello from a virtual CD-ROM, served over HTTPS by nbdkit.\n');
  writeFileSync(join(tree, 'boot', 'README'), 'Not really bootable: this is the meta-virtual-media demo.\n');
  writeFileSync(join(tree, 'payload.bin'), randomBytes(24 << 20));
  const path = join(dir, 'sample.iso');
  await run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'VM_DEMO', '-o', path, tree]);
  const data = readFileSync(path);
  return { path, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}
const work = '/tmp/vm-demo';
const SLOT = 'Slot_1';

async function main(): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // The daemon reads the CA itself, and its unit gives it a private /tmp.
  const tls = await makeCa(join(DAEMON_VISIBLE_DIR, 'tls'));
  const iso = await sampleIso(join(work, 'www'));
  const servers = await httpsServers(join(work, 'www'), tls, { user: 'unused', password: 'unused' });
  const url = `https://localhost:${servers.open.port}/sample.iso`;
  say(`serving ${url} (${iso.bytes} bytes, ISO 9660) with a self-signed CA`);

  const connection = await rt.Connection.open({ bus: 'system' });
  const config = {
    InactivityTimeout: 1800,
    TlsCaFile: tls.ca,
    MountPoints: { [SLOT]: { Mode: 1, NBDDevice: '/dev/nbd1', Timeout: 30, BlockSize: 512 } },
  };
  const daemon = new SystemdDaemon();
  const { startToNameMs } = await daemon.start(config, connection);
  say(`systemd started the installed daemon (layer unit); it owned xyz.openbmc_project.VirtualMedia ${(startToNameMs / 1000).toFixed(1)} s after its start`);
  try {
    const path = legacyPath(SLOT);
    const legacy = new LegacyClient(connection, SERVICE, path);
    const mountPoint = new MountPointClient(connection, SERVICE, path);
    const stats = new StatsClient(connection, SERVICE, path);
    /** Subscribes first, so a fast Completion cannot be missed; `.result` is the next one. */
    const nextCompletion = async (): Promise<{ result: Promise<number> }> => {
      let resolve!: (r: number) => void;
      const result = new Promise<number>((r) => (resolve = r));
      const subscription = await legacy.onCompletion((r) => resolve(r));
      return { result: result.finally(() => subscription.unsubscribe()) };
    };

    let done = await nextCompletion();
    const started = Date.now();
    say(`Legacy.Mount("${url}", ReadWrite=false, no credentials) -> ${await legacy.Mount(url, false, { type: 'int32', value: -1 })}`);
    const result = await done.result;
    say(`Completion(${result}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (result !== 0) throw new Error(`the mount failed with errno ${result}`);
    const mp = await mountPoint.getAll();
    say(`MountPoint: ImageURL=${mp.ImageURL} WriteProtected=${mp.WriteProtected} Device=${mp.Device}`);

    const cdrom = await waitForUsbDevice('sr');
    say(`host side: /dev/${cdrom.name} appeared, ${cdrom.bytes} bytes, a USB CD-ROM (ISO 9660 detected by the daemon)`);
    mkdirSync(join(work, 'mnt'), { recursive: true });
    await run('mount', ['-t', 'iso9660', '-o', 'ro', `/dev/${cdrom.name}`, join(work, 'mnt')]);
    const listing = (await run('ls', ['-lR', join(work, 'mnt')])).stdout.trim().split('\n');
    say(`host side: mount -t iso9660 /dev/${cdrom.name}; ls -lR:`);
    for (const l of listing) say(`    ${l}`);
    say(`    hello.txt: ${(await run('cat', [join(work, 'mnt', 'hello.txt')])).stdout.trim()}`);
    await run('umount', [join(work, 'mnt')]);

    // Stream the whole medium through USB, with progress. Asynchronously: the
    // HTTPS server feeding nbdkit lives in this very process.
    const device = await open(`/dev/${cdrom.name}`, 'r');
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    let total = 0;
    for (;;) {
      const { bytesRead } = await device.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      total += bytesRead;
      process.stdout.write(`PROGRESS streaming ${total} ${cdrom.bytes}\n`);
    }
    await device.close();
    const same = hash.digest('hex') === iso.sha256;
    say(`read ${total} bytes through USB: sha256 ${same ? 'matches' : 'DIFFERS FROM'} the served image`);
    say(`Stats: ReadIO=${await stats.get('ReadIO')} (read commands the USB host issued)`);

    done = await nextCompletion();
    say(`Legacy.Unmount() -> ${await legacy.Unmount()}`);
    say(`Completion(${await done.result}); ImageURL is now "${await mountPoint.get('ImageURL')}"`);
    if (!same) throw new Error('the medium read back differs from the image');
  } finally {
    await daemon.stop();
    await servers.open.close();
    await servers.auth.close();
    await connection.close();
  }
}

main().then(
  () => say('OK'),
  (e) => {
    say(`FAILED: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
