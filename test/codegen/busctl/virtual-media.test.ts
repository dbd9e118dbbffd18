// The project's own generated bindings (bindings/xyz/openbmc_project/VirtualMedia)
// served by trivial implementations, seen through busctl the way a BMC
// developer or bmcweb sees the daemon: the introspection matches
// interfaces/*.yaml, Mount/Unmount answer, properties read and refuse writes,
// and the ObjectManager lists the mount points.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as rt from '../../../codegen/runtime/index.js';
import { loadCorpus } from '../../../codegen/src/parse/index.js';
import type { InterfaceDef } from '../../../codegen/src/model.js';
import { LegacyServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Legacy/server.js';
import { ProxyServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Proxy/server.js';
import { MountPointServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/server.js';
import { ProcessServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Process/server.js';
import { StatsServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Stats/server.js';
import { startPrivateBus, type PrivateBus } from '../../support/private-bus.js';
import { repoRoot } from '../corpus/corpus-helpers.js';
import { actualRows, busctl, busctlJson, busctlOk, expectedRows, parseIntrospect } from './busctl.js';

const SERVICE = 'xyz.openbmc_project.VirtualMedia';
const ROOT = '/xyz/openbmc_project/VirtualMedia';
const PROXY = `${ROOT}/Proxy/Slot_0`;
const LEGACY = `${ROOT}/Legacy/Slot_1`;
const NS = 'xyz.openbmc_project.VirtualMedia';

class Proxy extends ProxyServer {
  readonly calls: string[] = [];
  Mount(): boolean {
    this.calls.push('Mount');
    return true;
  }
  Unmount(): boolean {
    this.calls.push('Unmount');
    return false;
  }
}

class Legacy extends LegacyServer {
  readonly calls: unknown[][] = [];
  Mount(url: string, readWrite: boolean, fd: { type: 'int32'; value: number } | { type: 'unixfd'; value: number }): boolean {
    this.calls.push([url, readWrite, fd]);
    this.emitCompletion(0);
    return url.startsWith('https://');
  }
  Unmount(): boolean {
    return true;
  }
}

interface Service {
  bus: PrivateBus;
  connection: rt.Connection;
  proxy: Proxy;
  legacy: Legacy;
  mountPoints: MountPointServer[];
  stop(): Promise<void>;
}

async function startService(): Promise<Service> {
  const bus = await startPrivateBus();
  const connection = await rt.Connection.open({ address: bus.address });
  const objects = new rt.ObjectServer(connection, { log: rt.silentLogger });
  objects.addManager(ROOT);
  const proxy = new Proxy({ log: rt.silentLogger });
  const legacy = new Legacy({ log: rt.silentLogger });
  const proxyPoint = new MountPointServer({ initial: { EndPointId: '/nbd/0', EndpointId: '/nbd/0', Mode: 0, Device: '/dev/nbd0', Socket: '/run/virtual-media/nbd0.sock', Timeout: 30, BlockSize: 512 } });
  const legacyPoint = new MountPointServer({ initial: { Mode: 1, Device: '/dev/nbd1', Socket: '/run/virtual-media/nbd1.sock', Timeout: 60, BlockSize: 512 } });
  objects.add(PROXY, proxy, proxyPoint, new ProcessServer(), new StatsServer());
  objects.add(LEGACY, legacy, legacyPoint, new ProcessServer(), new StatsServer());
  await connection.requestName(SERVICE);
  return {
    bus,
    connection,
    proxy,
    legacy,
    mountPoints: [proxyPoint, legacyPoint],
    async stop() {
      await connection.close();
      await bus.stop();
    },
  };
}

describe('busctl against the generated VirtualMedia bindings', function () {
  this.timeout(60_000);
  let s: Service;
  let yaml: Map<string, InterfaceDef>;
  before(async () => {
    const loaded = loadCorpus({ root: join(repoRoot, 'interfaces') });
    assert.deepEqual(loaded.diagnostics, []);
    yaml = loaded.corpus.interfaces;
    s = await startService();
  });
  after(async () => s?.stop());

  for (const [path, kind] of [[PROXY, 'Proxy'], [LEGACY, 'Legacy']] as const) {
    it(`busctl introspect ${path}: ${kind}, MountPoint, Process and Stats exactly as interfaces/*.yaml say`, async () => {
      const table = parseIntrospect(await busctlOk(s.bus.address, 'introspect', [SERVICE, path]));
      const names = [`${NS}.${kind}`, `${NS}.MountPoint`, `${NS}.Process`, `${NS}.Stats`];
      assert.deepEqual([...table.keys()].filter((n) => n.startsWith(NS)).sort(), names.sort());
      for (const name of names) {
        assert.ok(yaml.has(name), `${name} in interfaces/`);
        assert.deepEqual(actualRows(table.get(name)!), expectedRows(yaml.get(name)!), name);
      }
    });
  }

  it('busctl tree lists both mount points below the manager', async () => {
    const paths = (await busctlOk(s.bus.address, 'tree', [SERVICE], ['--list'])).trim().split('\n').map((l) => l.trim());
    for (const p of [ROOT, `${ROOT}/Proxy`, PROXY, `${ROOT}/Legacy`, LEGACY]) assert.ok(paths.includes(p), `${p} in ${JSON.stringify(paths)}`);
  });

  it('GetManagedObjects (what bmcweb calls) lists both mount points with their interfaces and properties', async () => {
    const r = await busctlJson(s.bus.address, 'call', [SERVICE, ROOT, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects']);
    const objects = r.data[0] as Record<string, Record<string, Record<string, { type: string; data: unknown }>>>;
    assert.deepEqual(Object.keys(objects).sort(), [LEGACY, PROXY]);
    assert.deepEqual(Object.keys(objects[PROXY]!).sort(), [`${NS}.MountPoint`, `${NS}.Process`, `${NS}.Proxy`, `${NS}.Stats`]);
    const point = objects[PROXY]![`${NS}.MountPoint`]!;
    assert.deepEqual(point.EndpointId, { type: 's', data: '/nbd/0' });
    assert.deepEqual(point.EndPointId, { type: 's', data: '/nbd/0' });
    assert.deepEqual(point.Socket, { type: 's', data: '/run/virtual-media/nbd0.sock' });
    assert.deepEqual(point.Mode, { type: 'y', data: 0 });
    assert.deepEqual(point.WriteProtected, { type: 'b', data: true });
    assert.deepEqual(objects[LEGACY]![`${NS}.Process`]!.Active, { type: 'b', data: false });
    assert.deepEqual(objects[LEGACY]![`${NS}.Stats`]!.ReadIO, { type: 't', data: 0 });
    // Every YAML property is there, with the YAML's signature.
    for (const name of [`${NS}.MountPoint`, `${NS}.Process`, `${NS}.Stats`]) {
      const props = yaml.get(name)!.properties;
      assert.deepEqual(Object.keys(objects[LEGACY]![name]!).sort(), props.map((p) => p.name).sort());
    }
  });

  it('busctl call Proxy.Mount / Unmount reach the implementation and return its boolean', async () => {
    assert.deepEqual(await busctlJson(s.bus.address, 'call', [SERVICE, PROXY, `${NS}.Proxy`, 'Mount']), { type: 'b', data: [true] });
    assert.deepEqual(await busctlJson(s.bus.address, 'call', [SERVICE, PROXY, `${NS}.Proxy`, 'Unmount']), { type: 'b', data: [false] });
    assert.deepEqual(s.proxy.calls, ['Mount', 'Unmount']);
  });

  it('busctl call Legacy.Mount with sbv (URL, read-write flag, -1 for no credentials) reaches the implementation', async () => {
    const r = await busctlJson(s.bus.address, 'call', [SERVICE, LEGACY, `${NS}.Legacy`, 'Mount', 'sbv', 'https://host/image.iso', 'false', 'i', '-1']);
    assert.deepEqual(r, { type: 'b', data: [true] });
    assert.deepEqual(s.legacy.calls.at(-1), ['https://host/image.iso', false, { type: 'int32', value: -1 }]);
    const wrong = await busctl(s.bus.address, 'call', [SERVICE, LEGACY, `${NS}.Legacy`, 'Mount', 'sbv', 'https://host/image.iso', 'false', 's', 'not-an-fd']);
    assert.notEqual(wrong.code, 0, 'a variant holding neither int32 nor unixfd is refused');
  });

  it('get-property reads MountPoint values; set-property on them fails (const/readonly) and nothing changes', async () => {
    const get = (name: string) => busctlJson(s.bus.address, 'get-property', [SERVICE, PROXY, `${NS}.MountPoint`, name]);
    assert.deepEqual(await get('Device'), { type: 's', data: '/dev/nbd0' });
    assert.deepEqual(await get('Timeout'), { type: 'q', data: 30 });
    for (const [name, sig, value] of [['Device', 's', '/dev/sda'], ['ImageURL', 's', 'https://evil/x'], ['WriteProtected', 'b', 'false']] as const) {
      const before = await get(name);
      const r = await busctl(s.bus.address, 'set-property', [SERVICE, PROXY, `${NS}.MountPoint`, name, sig, value]);
      assert.notEqual(r.code, 0, `${name} is not writable`);
      assert.deepEqual(await get(name), before);
    }
    assert.equal(s.mountPoints[0]!.Device, '/dev/nbd0');
  });
});
