// What busctl and bmcweb see: every object's interfaces, members and
// signatures as `busctl introspect` prints them, compared with the YAML in
// interfaces/ (read here directly, not through the generator), and the
// GetManagedObjects answer bmcweb builds its Redfish collection from.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { requireCommand } from '../support/require-command.js';
import { SERVICE } from './support/daemon-process.js';
import { Harness, ROOT } from './support/harness.js';

const TYPE: Record<string, string> = { string: 's', boolean: 'b', byte: 'y', uint16: 'q', int32: 'i', uint64: 't', unixfd: 'h' };
const signatureOf = (type: string) => (type.startsWith('variant[') ? 'v' : TYPE[type] ?? `?${type}`);

interface Member {
  kind: 'method' | 'property' | 'signal';
  signature: string;
  result: string;
  flags: string;
}

/** Members of one interface as the YAML defines them, in busctl's terms. */
function fromYaml(name: string): Map<string, Member> {
  const file = join('interfaces', ...name.split('.').slice(0, -1), `${name.split('.').at(-1)}.interface.yaml`);
  const doc = parse(readFileSync(file, 'utf8')) as {
    methods?: { name: string; parameters?: { type: string }[]; returns?: { type: string }[] }[];
    properties?: { name: string; type: string; flags?: string[] }[];
    signals?: { name: string; properties?: { type: string }[] }[];
  };
  const out = new Map<string, Member>();
  const sig = (list?: { type: string }[]) => (list ?? []).map((p) => signatureOf(p.type)).join('') || '-';
  for (const m of doc.methods ?? []) out.set(m.name, { kind: 'method', signature: sig(m.parameters), result: sig(m.returns), flags: '-' });
  for (const p of doc.properties ?? []) {
    const flags = p.flags ?? [];
    const f = flags.includes('const') ? 'const' : flags.includes('readonly') ? 'emits-change' : 'emits-change writable';
    out.set(p.name, { kind: 'property', signature: signatureOf(p.type), result: '', flags: f });
  }
  for (const s of doc.signals ?? []) out.set(s.name, { kind: 'signal', signature: sig(s.properties), result: '-', flags: '-' });
  return out;
}

/** `busctl introspect` output for one object: interface -> member -> what busctl says. */
function introspect(address: string, path: string): Map<string, Map<string, Member>> {
  const text = execFileSync('busctl', [`--address=${address}`, 'introspect', '--no-pager', SERVICE, path], { encoding: 'utf8' });
  const out = new Map<string, Map<string, Member>>();
  let current: Map<string, Member> | undefined;
  for (const line of text.split('\n').slice(1)) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 3) continue;
    const [name, kind, signature] = tokens as [string, string, string];
    if (kind === 'interface') {
      current = new Map();
      out.set(name, current);
    } else if (current && name.startsWith('.')) {
      const last = tokens.slice(3);
      const flags = last.filter((t) => ['const', 'emits-change', 'writable', 'emits-invalidation'].includes(t)).join(' ') || '-';
      current.set(name.slice(1), { kind: kind as Member['kind'], signature, result: kind === 'property' ? '' : tokens[3]!, flags: kind === 'property' ? flags : '-' });
    }
  }
  return out;
}

describe('daemon: the D-Bus surface', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    requireCommand('busctl', 'systemd');
    h = await Harness.create();
    await h.start({
      Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: '/dev/nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock') },
      Slot_1: { EndpointId: '/nbd/1', Mode: 0, NBDDevice: 'nbd1', UnixSocket: join(h.kernel.run, 'nbd1.sock') },
      Slot_2: { Mode: 1, NBDDevice: 'nbd2', UnixSocket: join(h.kernel.run, 'nbd2.sock') },
      Slot_3: { Mode: 1, NBDDevice: 'nbd3', UnixSocket: join(h.kernel.run, 'nbd3.sock'), Timeout: 60, BlockSize: 4096 },
    });
  });
  after(async () => {
    await h.stop();
  });

  for (const [path, control] of [
    [`${ROOT}/Proxy/Slot_0`, 'Proxy'],
    [`${ROOT}/Legacy/Slot_2`, 'Legacy'],
  ] as const) {
    it(`busctl introspect ${path} matches interfaces/ for Process, MountPoint, Stats and ${control}`, () => {
      const seen = introspect(h.bus.address, path);
      const expected = ['Process', 'MountPoint', 'Stats', control].map((n) => `xyz.openbmc_project.VirtualMedia.${n}`);
      const ours = [...seen.keys()].filter((k) => k.startsWith('xyz.openbmc_project.')).sort();
      assert.deepEqual(ours, [...expected].sort());
      for (const iface of expected) {
        const actual = seen.get(iface)!;
        const wanted = fromYaml(iface);
        assert.deepEqual([...actual.keys()].sort(), [...wanted.keys()].sort(), `${iface} members`);
        for (const [name, want] of wanted) {
          const got = actual.get(name)!;
          assert.deepEqual({ kind: got.kind, signature: got.signature, result: got.result, flags: got.flags }, want, `${iface}.${name}`);
        }
      }
      for (const std of ['org.freedesktop.DBus.Properties', 'org.freedesktop.DBus.Introspectable']) assert.ok(seen.has(std), std);
    });
  }

  it('serves ObjectManager at the root: GetManagedObjects lists every mount point as bmcweb expects', () => {
    const json = execFileSync(
      'busctl',
      [`--address=${h.bus.address}`, '--json=short', 'call', SERVICE, ROOT, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects'],
      { encoding: 'utf8' },
    );
    const reply = JSON.parse(json) as { type: string; data: [Record<string, Record<string, Record<string, { type: string; data: unknown }>>>] };
    assert.equal(reply.type, 'a{oa{sa{sv}}}');
    const objects = reply.data[0];
    assert.deepEqual(Object.keys(objects).sort(), [`${ROOT}/Legacy/Slot_2`, `${ROOT}/Legacy/Slot_3`, `${ROOT}/Proxy/Slot_0`, `${ROOT}/Proxy/Slot_1`]);
    const proxy = objects[`${ROOT}/Proxy/Slot_1`]!;
    const mp = proxy['xyz.openbmc_project.VirtualMedia.MountPoint']!;
    assert.deepEqual(mp.EndpointId, { type: 's', data: '/nbd/1' });
    assert.deepEqual(mp.EndPointId, { type: 's', data: '/nbd/1' });
    assert.deepEqual(mp.Socket, { type: 's', data: join(h.kernel.run, 'nbd1.sock') });
    assert.deepEqual(mp.Device, { type: 's', data: '/dev/nbd1' });
    assert.deepEqual(mp.Mode, { type: 'y', data: 0 });
    assert.deepEqual(mp.WriteProtected, { type: 'b', data: true });
    assert.deepEqual(mp.ImageURL, { type: 's', data: '' });
    assert.deepEqual(proxy['xyz.openbmc_project.VirtualMedia.Process']!.Active, { type: 'b', data: false });
    const legacy = objects[`${ROOT}/Legacy/Slot_3`]!['xyz.openbmc_project.VirtualMedia.MountPoint']!;
    assert.deepEqual(legacy.Timeout, { type: 'q', data: 60 });
    assert.deepEqual(legacy.BlockSize, { type: 'q', data: 4096 });
    assert.deepEqual(legacy.Mode, { type: 'y', data: 1 });
    assert.deepEqual(legacy.EndpointId, { type: 's', data: '' });
    assert.ok(objects[`${ROOT}/Legacy/Slot_3`]!['xyz.openbmc_project.VirtualMedia.Stats']);
    assert.ok(objects[`${ROOT}/Legacy/Slot_3`]!['xyz.openbmc_project.VirtualMedia.Legacy']);
  });

  it('read-only properties cannot be set over D-Bus', () => {
    assert.throws(
      () => execFileSync('busctl', [`--address=${h.bus.address}`, 'set-property', SERVICE, `${ROOT}/Proxy/Slot_0`, 'xyz.openbmc_project.VirtualMedia.Process', 'Active', 'b', 'true'], { stdio: 'pipe' }),
      /not writable/,
    );
    const out = execFileSync('busctl', [`--address=${h.bus.address}`, 'get-property', SERVICE, `${ROOT}/Proxy/Slot_0`, 'xyz.openbmc_project.VirtualMedia.Process', 'Active'], { encoding: 'utf8' });
    assert.equal(out.trim(), 'b false');
  });
});
