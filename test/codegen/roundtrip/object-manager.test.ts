// org.freedesktop.DBus.ObjectManager, as bmcweb uses it.
import { strict as assert } from 'node:assert';
import * as rt from '../../../codegen/runtime/index.js';
import { ForeignServer } from '../generated/net/example/Test/Foreign/server.js';
import { ForeignClient } from '../generated/net/example/Test/Foreign/client.js';
import { eventually, MANAGER, OBJECT, SERVICE, startFixture, type Fixture } from './everything-service.js';

class Foreign extends ForeignServer {}

describe('round trip: ObjectManager', function () {
  this.timeout(20000);
  let f: Fixture;
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => f?.stop());

  it('GetManagedObjects lists every object below the manager with its interfaces and properties (explicit ones left out)', async () => {
    const objects = await rt.getManagedObjects(f.clientConnection, SERVICE, MANAGER);
    assert.deepEqual([...objects.keys()], [OBJECT]);
    const ifaces = objects.get(OBJECT)!;
    assert.deepEqual([...ifaces.keys()].sort(), ['net.example.Test.Everything', 'net.example.Test.Foreign']);
    const props = f.client.decodeProperties(ifaces.get('net.example.Test.Everything')!);
    assert.equal(props.Writable, 'hello');
    assert.equal(props.Shape, 'Square');
    assert.ok(!('Explicit' in props));
  });

  it('adding and removing objects sends InterfacesAdded / InterfacesRemoved from the manager', async () => {
    const events: [string, string, unknown][] = [];
    await f.clientConnection.subscribe({ sender: SERVICE, path: MANAGER, interface: 'org.freedesktop.DBus.ObjectManager' }, (msg) => {
      events.push([msg.member!, msg.body[0] as string, msg.body[1]]);
    });
    const path = `${MANAGER}/sub/obj2`;
    f.objects.add(path, new Foreign({ initial: { Current: 'Circle' } }));
    await eventually(() => events.length === 1);
    assert.equal(events[0]![0], 'InterfacesAdded');
    assert.equal(events[0]![1], path);
    const added = events[0]![2] as Record<string, Record<string, rt.Variant>>;
    const client = new ForeignClient(f.clientConnection, SERVICE, path);
    assert.deepEqual(client.decodeProperties(added['net.example.Test.Foreign']!), { Current: 'Circle' });
    assert.equal(await client.get('Current'), 'Circle');
    f.objects.remove(path);
    await eventually(() => events.length === 2);
    assert.deepEqual(events[1], ['InterfacesRemoved', path, ['net.example.Test.Foreign']]);
    assert.ok(!(await rt.getManagedObjects(f.clientConnection, SERVICE, MANAGER)).has(path));
    await assert.rejects(client.get('Current'), (e: rt.DBusError) => e.type === rt.StandardError.UnknownObject);
  });

  it('the manager introspects as org.freedesktop.DBus.ObjectManager', async () => {
    const reply = await f.clientConnection.call({ destination: SERVICE, path: MANAGER, interface: 'org.freedesktop.DBus.Introspectable', member: 'Introspect' });
    const xml = reply!.body[0] as string;
    assert.match(xml, /<interface name="org.freedesktop.DBus.ObjectManager">/);
    assert.match(xml, /<method name="GetManagedObjects">\s*<arg name="object_paths_interfaces_and_properties" type="a\{oa\{sa\{sv\}\}\}" direction="out"\/>/);
    assert.match(xml, /<node name="obj1"\/>/);
  });
});
