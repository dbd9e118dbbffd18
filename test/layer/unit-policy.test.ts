// The systemd unit (systemd-analyze verify, in a scratch root) and the D-Bus
// policy (DTD validation with xmllint, then a real dbus-daemon enforcing it).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { requireCommand } from '../support/require-command.js';
import { policyFile, read, repoRoot, unitFile } from './support/layer-files.js';

const execFileAsync = promisify(execFile);
const unitName = 'xyz.openbmc_project.VirtualMedia.service';
const busName = 'xyz.openbmc_project.VirtualMedia';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { ...options, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A root with the host's system units (dbus.socket, targets), a stub /usr/bin/node and `unit` installed like the recipe does. */
function scratchRoot(dir: string, unitText: string, withNode = true): string {
  const root = join(dir, `root-${Math.random().toString(36).slice(2)}`);
  const unitDir = join(root, 'usr/lib/systemd/system');
  mkdirSync(unitDir, { recursive: true });
  const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(join(d, 'dbus.socket')));
  assert.ok(hostUnits, 'dbus.socket not found on this machine: install the Debian package dbus');
  cpSync(hostUnits, unitDir, { recursive: true, dereference: false });
  if (withNode) {
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/node'), '#!/bin/sh\n');
    chmodSync(join(root, 'usr/bin/node'), 0o755);
  }
  writeFileSync(join(unitDir, unitName), unitText);
  return root;
}

async function verify(root: string): Promise<RunResult> {
  requireCommand('systemd-analyze', 'systemd');
  return run('systemd-analyze', ['verify', `--root=${root}`, `/usr/lib/systemd/system/${unitName}`]);
}

describe('layer: the systemd unit', function () {
  this.timeout(60_000);
  let dir: string;
  const unit = read(unitFile);

  before(() => (dir = mkdtempSync(join(tmpdir(), 'vm-layer-unit-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes systemd-analyze verify without a warning', async () => {
    const result = await verify(scratchRoot(dir, unit));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', 'no warnings');
  });

  it('verify fails when ExecStart= names a program the root does not have', async () => {
    const result = await verify(scratchRoot(dir, unit, false));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /\/usr\/bin\/node is not executable/);
  });

  it('verify fails for Type=dbus without BusName=', async () => {
    const result = await verify(scratchRoot(dir, unit.replace(/^BusName=.*\n/m, '')));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /no D-Bus service name/);
  });

  it('verify warns about a misspelt directive', async () => {
    const result = await verify(scratchRoot(dir, unit.replace('RestartSec=', 'RestartSecs=')));
    assert.match(result.stderr, /Unknown key/);
  });

  it('is a Type=dbus service for xyz.openbmc_project.VirtualMedia running the bundle with its config', () => {
    assert.match(unit, /^Type=dbus$/m);
    assert.match(unit, /^BusName=xyz\.openbmc_project\.VirtualMedia$/m);
    assert.match(unit, /^ExecStart=\/usr\/bin\/node \/usr\/lib\/virtual-media\/virtual-mediad\.mjs --config \/etc\/virtual-media\/config\.json$/m);
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
  });

  it('is hardened without taking away configfs, nbd devices, mount(2) or the JIT', () => {
    assert.match(unit, /^ProtectSystem=strict$/m);
    assert.match(unit, /^NoNewPrivileges=yes$/m);
    assert.match(unit, /^CapabilityBoundingSet=.*\bCAP_SYS_ADMIN\b/m, 'mount(2), nbd ioctls');
    assert.match(unit, /^DeviceAllow=block-nbd rw$/m);
    assert.match(unit, /^SystemCallFilter=.*@mount/m);
    assert.match(unit, /^SystemCallErrorNumber=EPERM$/m, 'a probe of a filtered call must not kill Node');
    // Each of these would break the daemon:
    assert.doesNotMatch(unit, /^ProtectKernelTunables=yes/m, 'makes /sys, hence configfs, read-only');
    assert.doesNotMatch(unit, /^PrivateDevices=yes/m, 'hides /dev/nbd*');
    assert.doesNotMatch(unit, /^MemoryDenyWriteExecute=yes/m, "breaks V8's JIT");
    assert.doesNotMatch(unit, /^RestrictFileSystems=/m, 'cifs must stay mountable');
  });
});

// The DTD dbus ships (busconfig.dtd, "D-BUS Bus Configuration 1.0") predates
// the attributes every current policy uses (send_destination, send_interface,
// ...), so a policy using them can only be valid against the DTD extended with
// the attributes dbus-daemon(1) documents for <allow>/<deny>.
const policyAttributes = [
  'send_interface', 'send_member', 'send_error', 'send_broadcast', 'send_destination', 'send_destination_prefix',
  'send_type', 'send_path', 'receive_interface', 'receive_member', 'receive_error', 'receive_sender', 'receive_type',
  'receive_path', 'send_requested_reply', 'receive_requested_reply', 'eavesdrop', 'own_prefix', 'group',
  'max_fds', 'min_fds',
];

function extendedDtd(dir: string): string {
  const debian = '/usr/share/xml/dbus-1/busconfig.dtd';
  assert.ok(existsSync(debian), `${debian} not found: install the Debian package libdbus-1-dev`);
  const attlist = (element: string) => `<!ATTLIST ${element}\n${policyAttributes.map((a) => `          ${a} CDATA #IMPLIED`).join('\n')}>\n`;
  const path = join(dir, 'busconfig-extended.dtd');
  writeFileSync(path, readFileSync(debian, 'utf8') + '\n' + attlist('allow') + attlist('deny'));
  return path;
}

async function xmllint(dtd: string, file: string): Promise<RunResult> {
  requireCommand('xmllint', 'libxml2-utils');
  return run('xmllint', ['--noout', '--nonet', '--dtdvalid', dtd, file]);
}

/** A system-bus-like dbus-daemon whose policy is Debian's system.conf default plus our file. */
async function startPolicyBus(dir: string, policy: string): Promise<{ address: string; process: ChildProcess; stop(): Promise<void> }> {
  requireCommand('dbus-daemon', 'dbus');
  const busDir = mkdtempSync(join(dir, 'bus-'));
  chmodSync(busDir, 0o755); // other users connect in the tests below
  copyFileSync(policy, join(busDir, 'policy.conf'));
  const config = join(busDir, 'bus.conf');
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${busDir}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>${busDir}/policy.conf</include>
</busconfig>
`,
  );
  const child = spawn('dbus-daemon', ['--config-file', config, '--print-address', '--nofork'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`dbus-daemon refused the configuration (exit ${code}): ${stderr}`)));
  });
  return {
    address,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

const nobody = { uid: 65534, gid: 65534 }; // stands in for the bmcweb user
const other = { uid: 1, gid: 1 }; // Debian's "daemon": any other unprivileged user

/** The call got through the bus policy to the owner (which has no objects, so it answers "unknown"). */
function assertDelivered(result: RunResult, what: string): void {
  assert.doesNotMatch(result.stderr, /Failed to connect/, `${what}: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /Access denied|AccessDenied/, `${what}: ${result.stderr}`);
  assert.match(result.stderr, /unknown|no such|does not exist|not exported/i, `${what} reached the service: ${result.stderr}`);
}

async function callAs(user: { uid: number; gid: number } | undefined, address: string, args: string[]): Promise<RunResult> {
  return run('busctl', [`--address=${address}`, '--timeout=5', 'call', busName, ...args], user ?? {});
}

describe('layer: the D-Bus policy', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vm-layer-policy-'));
    chmodSync(dir, 0o755); // the bus socket below must be reachable for other users
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is valid against the D-Bus bus configuration DTD (xmllint --dtdvalid)', async () => {
    const result = await xmllint(extendedDtd(dir), policyFile);
    assert.equal(result.code, 0, result.stderr);
  });

  it('a policy with a misspelt attribute or an unknown element is rejected by the DTD check', async () => {
    const dtd = extendedDtd(dir);
    const misspelt = join(dir, 'misspelt.conf');
    writeFileSync(misspelt, read(policyFile).replace('send_destination=', 'send_destinaton='));
    assert.notEqual((await xmllint(dtd, misspelt)).code, 0);
    const unknown = join(dir, 'unknown.conf');
    writeFileSync(unknown, read(policyFile).replace('<policy user="root">', '<policy user="root">\n    <permit own="x"/>'));
    assert.notEqual((await xmllint(dtd, unknown)).code, 0);
  });

  it('dbus-daemon refuses a configuration with a bad policy (so the next test means something)', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, read(policyFile).replace('send_destination=', 'send_destinaton='));
    await assert.rejects(startPolicyBus(dir, bad), /refused the configuration/);
  });

  describe('enforced by dbus-daemon', function () {
    let bus: Awaited<ReturnType<typeof startPolicyBus>>;
    let owner: ChildProcess;
    let policyForTest: string;

    before(async function () {
      requireCommand('busctl', 'systemd');
      // The policy's "bmcweb" user does not exist here: nobody stands in for it.
      policyForTest = join(dir, 'policy-nobody.conf');
      writeFileSync(policyForTest, read(policyFile).replace('<policy user="bmcweb">', '<policy user="nobody">'));
      bus = await startPolicyBus(dir, policyForTest);
      // root owns the name (the fixture daemon; it exports no objects, so an
      // allowed call ends in UnknownObject/UnknownMethod, a denied one in AccessDenied).
      owner = spawn(process.execPath, ['--import', 'tsx', 'test/layer/fixtures/fixture-daemon.ts', '--config', 'test/layer/fixtures/fixture-config.json'], {
        cwd: repoRoot,
        env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus.address },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: owner.stdout! }).once('line', () => resolve());
        owner.once('exit', (code) => reject(new Error(`root could not own ${busName} (exit ${code})`)));
      });
    });

    after(async () => {
      if (owner && owner.exitCode === null) {
        const exited = new Promise((r) => owner.once('exit', r));
        owner.kill('SIGTERM');
        await exited;
      }
      await bus?.stop();
    });

    const legacy = ['/xyz/openbmc_project/VirtualMedia/Legacy/0', 'xyz.openbmc_project.VirtualMedia.Legacy', 'Unmount'];
    const proxy = ['/xyz/openbmc_project/VirtualMedia/Proxy/0', 'xyz.openbmc_project.VirtualMedia.Proxy', 'Mount'];
    const managed = ['/xyz/openbmc_project/VirtualMedia', 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects'];
    const getAll = ['/xyz/openbmc_project/VirtualMedia/Legacy/0', 'org.freedesktop.DBus.Properties', 'GetAll', 's', 'xyz.openbmc_project.VirtualMedia.Process'];
    const set = ['/xyz/openbmc_project/VirtualMedia/Legacy/0', 'org.freedesktop.DBus.Properties', 'Set', 'ssv', 'xyz.openbmc_project.VirtualMedia.Process', 'Active', 'b', 'true'];

    it('root may call everything', async () => {
      for (const call of [legacy, proxy, set, managed]) assertDelivered(await callAs(undefined, bus.address, call), `${call[2]} as root`);
    });

    it('bmcweb may call Legacy and Proxy Mount/Unmount', async () => {
      for (const call of [legacy, proxy]) {
        assertDelivered(await callAs(nobody, bus.address, call), `${call[2]} as bmcweb`);
      }
    });

    it('any other user may not call Mount/Unmount or set properties', async () => {
      for (const call of [legacy, proxy, set]) {
        const result = await callAs(other, bus.address, call);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /Access denied|AccessDenied/, `${call[2]} as another user: ${result.stderr}`);
      }
    });

    it('any user may read: GetManagedObjects and Properties.GetAll', async () => {
      for (const call of [managed, getAll]) {
        assertDelivered(await callAs(other, bus.address, call), `${call[2]} as another user`);
      }
    });

    it('no user but root may own the name', async () => {
      const script = `const dbus = require('dbus-next'); const bus = dbus.systemBus();
        bus.requestName('${busName}', 4).then((r) => { console.log('granted', r); process.exit(0); }, (e) => { console.log('denied', e.type || e.message); process.exit(0); });`;
      const result = await run(process.execPath, ['-e', script], {
        ...other,
        env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus.address, NODE_PATH: join(repoRoot, 'node_modules') },
      });
      assert.match(result.stdout, /^denied .*AccessDenied/m, result.stdout + result.stderr);
    });
  });
});
