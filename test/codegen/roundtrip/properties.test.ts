// Property flags behave as with sdbus++: read-only really is, changes are
// announced once per turn and only when real, const/explicit/invalidation
// follow the YAML.
import { strict as assert } from 'node:assert';
import * as rt from '../../../codegen/runtime/index.js';
import { Broken } from '../generated/net/example/Test/error.js';
import { eventually, startFixture, type Fixture } from './everything-service.js';

describe('round trip: properties and their flags', function () {
  this.timeout(20000);
  let f: Fixture;
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => f?.stop());

  it('defaults come from the YAML (strings, enums local and foreign, YAML 1.1 On, Infinity, maxint)', async () => {
    const all = await f.client.getAll();
    assert.equal(all.Writable, 'hello');
    assert.equal(all.Constant, 7);
    assert.equal(all.ReadOnly, -5n);
    assert.equal(all.Color, 'Green');
    assert.equal(all.Shape, 'Square');
    assert.equal(all.Deprecated, true);
    assert.equal(all.Limit, Infinity);
    assert.equal(all.Biggest, 2n ** 64n - 1n);
  });

  it('explicit properties are left out of GetAll but readable with Get', async () => {
    const all = await f.client.getAll();
    assert.ok(!('Explicit' in all));
    f.service.Explicit = new Uint8Array([1, 2]);
    assert.deepEqual([...(await f.client.get('Explicit'))], [1, 2]);
  });

  it('a writable property is set over D-Bus, through onPropertySet, and announced', async () => {
    const changes: unknown[] = [];
    await f.client.onPropertiesChanged((changed) => changes.push(changed));
    await f.client.set('Color', 'Blue');
    assert.equal(f.service.Color, 'Blue');
    assert.deepEqual(f.service.sets, [['Color', 'Blue']]);
    await eventually(() => changes.length === 1);
    assert.deepEqual(changes[0], { Color: 'Blue' });
  });

  it('a property flagged emits_change + unprivileged is writable and announced like the default', async () => {
    const changes: unknown[] = [];
    await f.client.onPropertiesChanged((changed) => changes.push(changed));
    await f.client.set('Announced', -12);
    await eventually(() => changes.length === 1);
    assert.deepEqual(changes[0], { Announced: -12 });
    assert.equal(f.service.Announced, -12);
  });

  it('onPropertySet can refuse a value with a declared error; the value stays', async () => {
    await assert.rejects(f.client.set('Writable', 'forbidden'), (e) => e instanceof Broken && /not allowed/.test((e as Broken).text));
    assert.equal(await f.client.get('Writable'), 'hello');
  });

  for (const name of ['Constant', 'ReadOnly'] as const) {
    it(`Set on ${name} (${name === 'Constant' ? 'const' : 'readonly'}) is refused and the value does not change`, async () => {
      const before = await f.client.get(name);
      const wire = new rt.Variant(name === 'Constant' ? 'u' : 'x', name === 'Constant' ? 99 : 99n);
      await assert.rejects(
        f.clientConnection.call({
          destination: 'net.example.Test',
          path: '/net/example/test/obj1',
          interface: 'org.freedesktop.DBus.Properties',
          member: 'Set',
          signature: 'ssv',
          body: ['net.example.Test.Everything', name, wire],
        }),
        (e: rt.DBusError) => e.type === rt.StandardError.PropertyReadOnly,
      );
      assert.deepEqual(await f.client.get(name), before);
      assert.deepEqual(f.service[name], before);
    });
  }

  it('Set with the wrong type is InvalidArgs and changes nothing', async () => {
    await assert.rejects(
      f.clientConnection.call({
        destination: 'net.example.Test',
        path: '/net/example/test/obj1',
        interface: 'org.freedesktop.DBus.Properties',
        member: 'Set',
        signature: 'ssv',
        body: ['net.example.Test.Everything', 'Writable', new rt.Variant('i', 3)],
      }),
      (e: rt.DBusError) => e.type === rt.StandardError.InvalidArgs && /expected|has type/.test(e.text),
    );
    assert.equal(f.service.Writable, 'hello');
  });

  it('unknown properties and interfaces are the standard errors', async () => {
    await assert.rejects(f.client.get('Nope' as 'Writable'), /has no property 'Nope'/);
    await assert.rejects(
      f.clientConnection.call({ destination: 'net.example.Test', path: '/net/example/test/obj1', interface: 'org.freedesktop.DBus.Properties', member: 'Get', signature: 'ss', body: ['net.example.Test.Everything', 'Nope'] }),
      (e: rt.DBusError) => e.type === rt.StandardError.UnknownProperty,
    );
    await assert.rejects(
      f.clientConnection.call({ destination: 'net.example.Test', path: '/net/example/test/obj1', interface: 'org.freedesktop.DBus.Properties', member: 'GetAll', signature: 's', body: ['net.example.Nope'] }),
      (e: rt.DBusError) => e.type === rt.StandardError.UnknownInterface,
    );
  });

  it('changes made in one call go out as one PropertiesChanged, before the reply; const changes are not announced; invalidation lists the name', async () => {
    const signals: [unknown, string[]][] = [];
    await f.client.onPropertiesChanged((changed, invalidated) => signals.push([changed, invalidated]));
    await f.client.Poke('poked');
    await eventually(() => signals.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(signals.length, 1, 'one signal for the whole call');
    assert.deepEqual(signals[0], [{ Writable: 'poked', ReadOnly: -4n }, ['Invalidating']]);
    assert.equal(await f.client.get('Constant'), 8, 'const changed by the service, silently');
  });

  it('setting an equal value announces nothing (deep equality for containers)', async () => {
    const signals: unknown[] = [];
    await f.client.onPropertiesChanged((changed) => signals.push(changed));
    f.service.Table = new Map([['a', { type: 'int64', value: 1n }]]);
    await eventually(() => signals.length === 1);
    assert.equal(f.service.setProperty('Table', new Map([['a', { type: 'int64', value: 1n }]])), false);
    f.service.Writable = 'hello';
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(signals.length, 1);
  });

  it('the service cannot store a value its type does not allow', () => {
    assert.throws(() => {
      f.service.Constant = -1;
    }, /Constant: expected uint32/);
    assert.equal(f.service.Constant, 7);
  });

  it('dicts of variants with enums survive Set and Get', async () => {
    const table = new Map<string, { type: 'int64'; value: bigint } | { type: 'string'; value: string } | { type: 'Color'; value: 'Red' | 'Green' | 'Blue' }>([
      ['n', { type: 'int64', value: -1n }],
      ['c', { type: 'Color', value: 'Red' }],
      ['s', { type: 'string', value: 'plain' }],
    ]);
    await f.client.set('Table', table);
    assert.deepEqual(await f.client.get('Table'), table);
  });
});
