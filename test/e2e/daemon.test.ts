// The daemon in the e2e VM as the image ships it: the release tarball
// installed by the recipe's own tasks, started by systemd (PID 1) from the
// layer's unit, behind the layer's D-Bus policy on Debian's system
// dbus-daemon. Driven over the system bus with the generated clients only (as
// bmcweb does), against the real kernel: configfs gadget, dummy_hcd, nbd,
// CIFS, and the patched usb_f_mass_storage (lun stats).
// One boot; guest/daemon/driver.ts runs every scenario.
import assert from 'node:assert/strict';
import { requireCommand } from '../support/require-command.js';
import { verboseConsole } from './vm/guest-scripts.js';
import { runInVm, type GuestResult, type RunInVmResult } from './vm/run-in-vm.js';
import { prepareShippedBoot } from './vm/shipped-daemon.js';
import { rmSync } from 'node:fs';

describe('e2e: the daemon in a qemu VM (system bus, real kernel data path)', function () {
  this.timeout(2_400_000);
  let run: RunInVmResult;
  let installDir: string | undefined;
  after(() => {
    if (installDir) rmSync(installDir, { recursive: true, force: true });
  });

  before(async function () {
    this.timeout(2_400_000);
    requireCommand('qemu-system-x86_64', 'qemu-system-x86');
    requireCommand('nbdkit', 'nbdkit');
    requireCommand('nbd-client', 'nbd-client');
    requireCommand('xorriso', 'xorriso');
    requireCommand('openssl', 'openssl');
    requireCommand('dbus-daemon', 'dbus');
    requireCommand('smbd', 'samba');
    requireCommand('mount.cifs', 'cifs-utils');
    const shipped = await prepareShippedBoot('e2e-shipped-');
    installDir = shipped.installDir;
    run = await runInVm({
      installRoot: shipped.root,
      script: 'exec bash "$E2E_GUEST_DIR/daemon-scenarios.sh"\n',
      timeoutMs: 1_800_000, // a hang guard only; the mocha timeout leaves room for the module build and the install before it
      memoryMiB: 1536,
      replaceModules: { usb_f_mass_storage: shipped.ko },
      onLine: verboseConsole('daemon'),
      // While developing: E2E_DAEMON_SCENARIOS='daemon-smb' runs only those (the others then fail as missing).
      ...(process.env.E2E_DAEMON_SCENARIOS ? { env: { E2E_DAEMON_SCENARIOS: process.env.E2E_DAEMON_SCENARIOS } } : {}),
    });
  });

  const scenario = (name: string): GuestResult => {
    const found = run.results.find((r) => r.scenario === name);
    assert.ok(found, `no result for ${name}; results: ${JSON.stringify(run.results.map((r) => r.scenario))}\nconsole tail:\n${run.console.split('\n').slice(-40).join('\n')}`);
    return found;
  };
  const passed = (name: string): GuestResult => {
    const r = scenario(name);
    assert.equal(r.pass, true, `${name} failed: ${r.reason}`);
    return r;
  };

  it('systemd starts the installed daemon from the layer unit; it owns its name on the system bus', function () {
    passed('daemon-setup');
  });

  it('the layer D-Bus policy refuses Mount/Unmount to a caller neither root nor bmcweb (nobody), who can still read', function () {
    assert.equal(passed('daemon-policy').refusedAsNobody, 4);
  });

  it('(1) HTTPS disk: Mount -> Completion(0) -> USB disk of the image size and sha256, ReadIO grows, Unmount leaves nothing', function () {
    const r = passed('daemon-https-disk');
    assert.ok(Number(r.readIoAfter) > Number(r.readIoBefore));
  });

  it('(2) HTTPS ISO: a USB CD-ROM that mounts as iso9660 with the known file', function () {
    assert.match(String(passed('daemon-https-iso').cdrom), /^sr\d+$/);
  });

  it('(3) HTTPS basic auth with credentials on a pipe; wrong ones give Completion(errno) and leave nothing', function () {
    assert.notEqual(Number(passed('daemon-https-credentials').wrongCredsErrno), 0);
  });

  it('(5) Proxy: NBD served on the mount point socket (as bmcweb) becomes a USB disk that reads back', function () {
    passed('daemon-proxy');
  });

  it('(7) nbdkit killed while active: back to ready with Completion(errno), and the next Mount works', function () {
    assert.notEqual(Number(passed('daemon-faults').faultErrno), 0);
  });

  it('(4) SMB read-write: smbd on loopback, CIFS + nbdkit file, a write reaches the share', function () {
    passed('daemon-smb');
  });

  it('(6) inactivity timeout: an idle medium is ejected by itself, a busy one is not', function () {
    passed('daemon-inactivity');
  });

  it('prints the timings (Mount -> Completion is compared with the by-hand script in bench/vm.ts)', function () {
    const line = Object.fromEntries(run.results.map((r) => [r.scenario, { ...r, scenario: undefined, pass: undefined, reason: undefined }]));
    process.stdout.write(`      daemon e2e: ${JSON.stringify(line)}\n`);
    assert.equal(run.exitCode, 0, `guest exit code ${run.exitCode} (failed scenarios)`);
  });
});
