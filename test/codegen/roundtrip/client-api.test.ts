// The client API as a service author in another project uses it: enum values
// a newer service added, declared errors as real instances of their class,
// the YAML's service name and path as defaults, and what the types allow.
import { strict as assert } from 'node:assert';
import * as rt from '../../../codegen/runtime/index.js';
import { Message, MessageType } from '../../../codegen/runtime/dbus-next.js';
import { Broken } from '../generated/net/example/Test/error.js';
import { EverythingClient } from '../generated/net/example/Test/Everything/client.js';
import { EverythingServer } from '../generated/net/example/Test/Everything/server.js';
import * as Everything from '../generated/net/example/Test/Everything/common.js';
import * as net from '../generated/net/index.js';
import { eventually, OBJECT, SERVICE, startFixture, type Fixture } from './everything-service.js';

const UV = 'net.example.Test.Everything.Color.Ultraviolet';

describe('round trip: the client API', function () {
  this.timeout(20000);
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => f?.stop());

  /** Sends PropertiesChanged as a service with a newer YAML would (raw, from the service's connection). */
  function sendRawPropertiesChanged(changed: Record<string, rt.Variant>): void {
    f.serverConnection.bus.send(
      new Message({
        type: MessageType.SIGNAL,
        path: OBJECT,
        interface: 'org.freedesktop.DBus.Properties',
        member: 'PropertiesChanged',
        signature: 'sa{sv}as',
        body: [Everything.interfaceName, changed, []],
      }),
    );
  }

  it('an enum value the YAML does not know arrives as UnknownEnumValue, and the other changes of the same signal still arrive', async () => {
    const seen: Partial<Everything.EverythingReceivedProperties>[] = [];
    const sub = await f.client.onPropertiesChanged((changed) => seen.push(changed));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      sendRawPropertiesChanged({
        Color: new rt.Variant('s', UV),
        Writable: new rt.Variant('s', 'next to it'),
        // Another D-Bus type than the YAML's: left out, named in a warning, the rest still arrives.
        Constant: new rt.Variant('s', 'not a uint32'),
      });
      await eventually(() => seen.length === 1 && warnings.length > 0);
    } finally {
      process.off('warning', onWarning);
      await sub.unsubscribe();
    }
    const [changed] = seen;
    assert.equal(changed!.Writable, 'next to it');
    assert.ok(!('Constant' in changed!), 'the undecodable property is left out');
    assert.match(warnings.join('\n'), /Constant has type 's', expected 'u'/);
    const color = changed!.Color!;
    assert.ok(rt.isUnknownEnumValue(color) && color instanceof rt.UnknownEnumValue);
    assert.equal(color.wire, UV);
    assert.equal(color.name, 'Ultraviolet');
    assert.equal(color.enumName, 'net.example.Test.Everything.Color');
    assert.equal(String(color), UV);
    // Typed: a known value narrows to the known names.
    const known: Everything.Color | undefined = rt.isUnknownEnumValue(color) ? undefined : color;
    assert.equal(known, undefined);
  });

  it('getAll and decodeProperties keep the whole object when one enum value is unknown', () => {
    const decoded = f.client.decodeProperties({
      Color: new rt.Variant('s', UV),
      Shape: new rt.Variant('s', 'net.example.Test.Foreign.Shape.Square'),
      Writable: new rt.Variant('s', 'w'),
    });
    assert.equal(decoded.Shape, 'Square');
    assert.equal(decoded.Writable, 'w');
    assert.ok(decoded.Color instanceof rt.UnknownEnumValue);
  });

  it('the server still refuses an enum value it does not know (InvalidEnumString, as sdbusplus)', async () => {
    await assert.rejects(
      f.clientConnection.call({
        destination: SERVICE,
        path: OBJECT,
        interface: 'org.freedesktop.DBus.Properties',
        member: 'Set',
        signature: 'ssv',
        body: [Everything.interfaceName, 'Color', new rt.Variant('s', UV)],
      }),
      (e: rt.DBusError) => e.type === rt.StandardError.InvalidEnumString,
    );
    assert.notEqual(await f.client.get('Color'), 'Ultraviolet');
  });

  it('a declared error is revived as a real instance of its generated class', async () => {
    await assert.rejects(f.client.Fail('declared'), (e) => {
      assert.equal(Object.getPrototypeOf(e), Broken.prototype);
      assert.equal((e as Broken).constructor, Broken);
      assert.ok(e instanceof rt.TypedDBusError && e instanceof rt.DBusError);
      return true;
    });
  });

  it("the YAML's default service and instance path are constants and the client's defaults", async () => {
    assert.equal(Everything.defaultService, SERVICE);
    assert.equal(Everything.instancePath, OBJECT);
    assert.deepEqual(Everything.paths[1], { kind: 'namespace', value: '/net/example/test', segments: { Spare: 'spare' } });
    assert.equal(EverythingClient.defaultService, SERVICE);
    const byDefault = new EverythingClient(f.clientConnection);
    assert.deepEqual([byDefault.service, byDefault.path], [SERVICE, OBJECT]);
    const atPath = new EverythingClient(f.clientConnection, '/net/example/test/other');
    assert.deepEqual([atPath.service, atPath.path], [SERVICE, '/net/example/test/other']);
    const elsewhere = new EverythingClient(f.clientConnection, 'net.example.Other', '/x');
    assert.deepEqual([elsewhere.service, elsewhere.path], ['net.example.Other', '/x']);
    assert.equal(await byDefault.get('Writable'), await f.client.get('Writable'));
  });

  it('the namespace index modules mirror the D-Bus names', () => {
    assert.equal(net.example.Test.Everything.EverythingClient, EverythingClient);
    assert.equal(net.example.Test.Everything.interfaceName, 'net.example.Test.Everything');
    assert.equal(net.example.Test.Error.Broken, Broken);
    assert.equal(net.example.Test.Foreign.interfaceName, 'net.example.Test.Foreign');
  });

  it('types: set() takes writable properties only; a server overriding onPropertySet with the typed signature is accepted by ObjectServer.add', async () => {
    const typeOnly = (fn: () => unknown) => void fn;
    // @ts-expect-error ReadOnly is readonly in the YAML: not settable by clients
    typeOnly(() => f.client.set('ReadOnly', 1n));
    // @ts-expect-error Constant is const in the YAML
    typeOnly(() => f.client.set('Constant', 1));
    // @ts-expect-error an unknown enum value cannot be sent
    typeOnly(() => f.client.set('Color', new rt.UnknownEnumValue('net.example.Test.Everything.Color', UV)));
    typeOnly(() => f.client.set('Color', 'Red'));

    class Typed extends EverythingServer {
      readonly seen: string[] = [];
      override onPropertySet<K extends keyof Everything.EverythingProperties & string>(name: K, value: Everything.EverythingProperties[K]): void {
        this.seen.push(`${name}=${String(value)}`);
      }
      EchoSimple(): never { throw new Error('unused'); }
      EchoContainers(): never { throw new Error('unused'); }
      EchoEnums(): never { throw new Error('unused'); }
      ColorFromString(): never { throw new Error('unused'); }
      PassFd(): never { throw new Error('unused'); }
      PassFdVariant(): never { throw new Error('unused'); }
      Fail(): void {}
      Stall(): void {}
      Poke(): void {}
      Forget(): void {}
      Old(): void {}
      Secret(): void {}
    }
    const typed = new Typed();
    const path = '/net/example/test/typed';
    f.objects.add(path, typed);
    try {
      await new EverythingClient(f.clientConnection, path).set('Writable', 'typed');
      assert.deepEqual(typed.seen, ['Writable=typed']);
    } finally {
      f.objects.remove(path);
    }
  });
});
