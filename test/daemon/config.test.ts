// The config file: the design's format, Intel's variants, our additions, and
// a refusal to start that names every problem with its key path.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, formatProblems } from '../../daemon/src/config/parse.js';
import { spawnDaemon } from './support/daemon-process.js';

function problemsOf(json: unknown): string[] {
  const r = parseConfig(JSON.stringify(json));
  assert.equal(r.ok, false, 'expected the config to be refused');
  return r.ok ? [] : formatProblems(r.problems);
}

function configOf(json: unknown) {
  const r = parseConfig(JSON.stringify(json));
  if (!r.ok) assert.fail(formatProblems(r.problems).join('\n'));
  return r.config;
}

describe('daemon: configuration', () => {
  it('reads the design\'s format', () => {
    const c = configOf({
      InactivityTimeout: 1800,
      MountPoints: { ISO0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: '/dev/nbd0', UnixSocket: '/tmp/nbd.sock', Timeout: 30, BlockSize: 512 } },
    });
    assert.equal(c.inactivityTimeout, 1800);
    assert.deepEqual(c.mountPoints, [{ id: 'ISO0', endpointId: '/nbd/0', mode: 0, nbdDevice: 'nbd0', unixSocket: '/tmp/nbd.sock', timeout: 30, blockSize: 512 }]);
    assert.equal(c.tlsCaFile, '/etc/ssl/certs/ca-certificates.crt');
    assert.equal(c.udc, undefined, 'no Udc: pick a free one');
    assert.deepEqual(c.roots, { sys: '/sys', configfs: '/sys/kernel/config', dev: '/dev', run: '/run/virtual-media', proxySockets: '/run/virtual-media-proxy', mountInfo: '/proc/self/mountinfo' });
    assert.deepEqual(c.nbdkit, { httpsFilters: undefined, httpsFilterParams: undefined, httpTimeout: 30, httpConnections: 4, cacheMiB: 0 }, 'filters derived from the installed nbdkit');
    assert.deepEqual(c.blockDevice, { readAheadKiB: 8192, maxRequestKiB: 8192 });
  });

  it("accepts Intel's variants: bare nbd names, missing fields, EndPointId spelling", () => {
    const c = configOf({
      MountPoints: {
        Proxy_0: { EndPointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0' },
        Legacy_0: { Mode: 1, NBDDevice: 'nbd2' },
      },
    });
    assert.equal(c.inactivityTimeout, 1800);
    assert.deepEqual(c.mountPoints[0], { id: 'Proxy_0', endpointId: '/nbd/0', mode: 0, nbdDevice: 'nbd0', unixSocket: '/run/virtual-media-proxy/nbd0.sock', timeout: 30, blockSize: 512 });
    assert.deepEqual(c.mountPoints[1], { id: 'Legacy_0', endpointId: '', mode: 1, nbdDevice: 'nbd2', unixSocket: '/run/virtual-media/nbd2.sock', timeout: 30, blockSize: 512 });
  });

  it('reads the deployment keys (CAs, UDC, gadget identity, roots, commands, nbdkit filters)', () => {
    const c = configOf({
      MountPoints: { A: { Mode: 1, NBDDevice: 'nbd1' } },
      TlsCaFile: '/etc/vm/ca.pem',
      TlsCaPath: '/etc/vm/certs',
      Udc: '1e6a0000.usb-vhub:p1',
      Gadget: { VendorId: 0x046b, ProductId: 0xff20, Manufacturer: 'ACME', Product: 'Remote CD', SerialNumberPrefix: 'X' },
      Paths: { Run: '/tmp/vm-run' },
      Commands: { NbdClient: '/opt/nbd-client' },
      Nbdkit: { HttpsFilters: ['readahead'], HttpsFilterParams: [], HttpTimeout: 60, HttpConnections: 8, CacheMiB: 64 },
      BlockDevice: { ReadAheadKiB: 4096, MaxRequestKiB: 2048 },
    });
    assert.equal(c.tlsCaFile, '/etc/vm/ca.pem');
    assert.equal(c.tlsCaPath, '/etc/vm/certs');
    assert.equal(c.udc, '1e6a0000.usb-vhub:p1');
    assert.equal(c.gadget.vendorId, 0x046b);
    assert.equal(c.gadget.manufacturer, 'ACME');
    assert.equal(c.roots.run, '/tmp/vm-run');
    assert.equal(c.mountPoints[0]!.unixSocket, '/tmp/vm-run/nbd1.sock', 'default legacy sockets follow Paths.Run');
    assert.equal(c.commands.nbdClient, '/opt/nbd-client');
    assert.equal(c.commands.nbdkit, 'nbdkit');
    assert.deepEqual(c.nbdkit, { httpsFilters: ['readahead'], httpsFilterParams: [], httpTimeout: 60, httpConnections: 8, cacheMiB: 64 });
    assert.deepEqual(c.blockDevice, { readAheadKiB: 4096, maxRequestKiB: 2048 });
    assert.deepEqual(configOf({ MountPoints: { A: { Mode: 1, NBDDevice: 'nbd1' } }, Nbdkit: { HttpsFilterParams: ['cache-on-read=true'] } }).nbdkit.httpsFilters, [], 'parameters alone are explicit too (no filters)');
  });

  it('lists every problem with its key path and reason', () => {
    const problems = problemsOf({
      InactivityTimeout: -1,
      Udp: 1,
      MountPoints: {
        'bad id': { Mode: 0, NBDDevice: 'nbd0', EndpointId: '/nbd/0' },
        A: { Mode: 2, NBDDevice: 'sda', Timeout: 'x', BlockSize: 1000, Extra: true },
        B: { Mode: 0, NBDDevice: 'nbd5' },
        C: { Mode: 1, NBDDevice: 'nbd5', UnixSocket: 'relative.sock' },
      },
      Gadget: { VendorId: 70000, Product: 'é' },
      Paths: { Sys: 'sys' },
      Commands: { Nbdkit: 'bin/nbdkit' },
    });
    const expected = [
      'config: Udp: unknown key',
      'config: InactivityTimeout: must be between 0 and 65535, got -1',
      'config: MountPoints."bad id": the id must be',
      'config: MountPoints.A.Extra: unknown key',
      'config: MountPoints.A.Mode: must be 0 (proxy) or 1 (legacy), got number 2',
      'config: MountPoints.A.NBDDevice: must be nbdN or /dev/nbdN, got "sda"',
      'config: MountPoints.A.Timeout: must be an integer, got "x"',
      'config: MountPoints.A.BlockSize: must be one of 512, 1024, 2048, 4096',
      'config: MountPoints.B.EndpointId: is required for a proxy mount point',
      'config: MountPoints.C.UnixSocket: must be an absolute path',
      'config: MountPoints.C.NBDDevice: "nbd5" is already used by MountPoints.B',
      'config: Gadget.VendorId: must be between 0 and 65535',
      'config: Gadget.Product: must be at most 126 printable ASCII characters',
      'config: Paths.Sys: must be an absolute path',
      'config: Commands.Nbdkit: must be a program name or an absolute path',
    ];
    for (const e of expected) assert.ok(problems.some((p) => p.startsWith(e)), `missing "${e}" in:\n${problems.join('\n')}`);
    assert.equal(problems.length, expected.length, problems.join('\n'));
  });

  it('refuses non-JSON, non-objects and a config without mount points', () => {
    const broken = parseConfig('{');
    assert.ok(!broken.ok);
    assert.match(formatProblems(broken.problems)[0]!, /^config: \(file\): is not valid JSON/);
    assert.deepEqual(problemsOf([]), ['config: (file): must hold a JSON object, got an array']);
    assert.deepEqual(problemsOf({}), ['config: MountPoints: is required (an object mapping mount point ids to their settings)']);
    assert.deepEqual(problemsOf({ MountPoints: {} }), ['config: MountPoints: must define at least one mount point']);
  });

  it('default proxy sockets follow Paths.ProxySockets (bmcweb binds them), legacy ones Paths.Run', () => {
    const c = configOf({
      MountPoints: { P: { EndpointId: '/nbd/3', Mode: 0, NBDDevice: 'nbd3' }, L: { Mode: 1, NBDDevice: 'nbd4' } },
      Paths: { Run: '/tmp/vm-run', ProxySockets: '/tmp/vm-proxy' },
    });
    assert.equal(c.roots.proxySockets, '/tmp/vm-proxy');
    assert.deepEqual(c.mountPoints.map((m) => m.unixSocket), ['/tmp/vm-proxy/nbd3.sock', '/tmp/vm-run/nbd4.sock']);
    assert.deepEqual(problemsOf({ MountPoints: { L: { Mode: 1, NBDDevice: 'nbd4' } }, Paths: { ProxySockets: 'rel' } }), ['config: Paths.ProxySockets: must be an absolute path, got "rel"']);
  });

  it('the shipped default config is valid; its proxy sockets are in /run/virtual-media-proxy, the legacy ones in the private /run/virtual-media', () => {
    const c = configOf(JSON.parse(readFileSync('daemon/config/virtual-media.json', 'utf8')));
    assert.equal(c.mountPoints.length, 4);
    assert.deepEqual(c.mountPoints.map((m) => m.mode), [0, 0, 1, 1]);
    assert.deepEqual(
      c.mountPoints.map((m) => m.unixSocket),
      ['/run/virtual-media-proxy/nbd0.sock', '/run/virtual-media-proxy/nbd1.sock', '/run/virtual-media/nbd2.sock', '/run/virtual-media/nbd3.sock'],
    );
    assert.equal(c.roots.proxySockets, '/run/virtual-media-proxy');
    assert.equal(c.roots.run, '/run/virtual-media');
  });

  it('the daemon refuses to start on a bad config: one line per problem, exit 1, no bus connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmd-cfg-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ MountPoints: { A: { Mode: 7, NBDDevice: 'nbd0' } }, Paths: { Run: join(dir, 'run') } }));
      // An unreachable bus: the daemon must fail on the config before trying it.
      const d = spawnDaemon(['--config', file, '--address', 'unix:path=/nonexistent/bus']);
      assert.equal(await d.exited, 1);
      assert.deepEqual(d.stderr, [
        '<3>config: MountPoints.A.Mode: must be 0 (proxy) or 1 (legacy), got number 7',
        `<3>not starting: 1 problem(s) in ${file}`,
      ]);
      const missing = spawnDaemon(['--config', join(dir, 'nope.json')]);
      assert.equal(await missing.exited, 1);
      assert.match(missing.stderr[0]!, /^<3>config: \(file\): cannot read .*nope\.json: ENOENT$/);
      const usage = spawnDaemon(['--frobnicate']);
      assert.equal(await usage.exited, 2);
      assert.match(usage.stderr[0]!, /^<3>unknown argument --frobnicate$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
