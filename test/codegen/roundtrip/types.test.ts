// Every type category crosses a real bus and comes back typed and unchanged.
import { strict as assert } from 'node:assert';
import * as rt from '../../../codegen/runtime/index.js';
import { startFixture, type Fixture } from './everything-service.js';

describe('round trip: types over a private dbus-daemon', function () {
  this.timeout(20000);
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => f?.stop());

  it('simple types, at their limits', async () => {
    const sent = [255, true, -32768, 65535, -2147483648, 4294967295, -(2n ** 63n), 2n ** 64n - 1n, -1.5e300, 'grüß\u00e9 ✓', '/a/b_c/D9', 'a{sv}(ii)', 2n ** 64n - 1n, -(2n ** 63n)] as const;
    const got = await f.client.EchoSimple(...sent);
    assert.deepEqual(got, [...sent]);
    assert.equal(typeof got[6], 'bigint');
  });

  it('arrays, byte arrays, sets, dicts with string and 64-bit keys, structs, nested variants', async () => {
    const nested: [string, Map<string, { type: 'int64'; value: bigint } | { type: 'string'; value: string } | { type: 'array[string]'; value: string[] }>][] = [
      ['/x', new Map<string, { type: 'int64'; value: bigint } | { type: 'string'; value: string } | { type: 'array[string]'; value: string[] }>([
        ['i', { type: 'int64', value: -3n }],
        ['s', { type: 'string', value: 'v' }],
        ['a', { type: 'array[string]', value: ['p', 'q'] }],
      ])],
      ['/', new Map()],
    ];
    const args = [
      ['a', '', 'c'] as string[],
      new Uint8Array([0, 1, 255]),
      new Set([1, 2, 4294967295]),
      new Map([['k', 9007199254740993n]]),
      new Map([[2n ** 64n - 1n, ['max']], [0n, []]]),
      ['s', -7, new Uint8Array([9])] as [string, number, Uint8Array],
      nested,
      { type: 'boolean' as const, value: false },
    ] as const;
    const got = await f.client.EchoContainers(...args);
    assert.deepEqual(got[0], args[0]);
    assert.deepEqual([...got[1]], [0, 1, 255]);
    assert.deepEqual(got[2], args[2]);
    assert.deepEqual(got[3], args[3]);
    assert.deepEqual(got[4], args[4]);
    assert.deepEqual([got[5][0], got[5][1], [...got[5][2]]], ['s', -7, [9]]);
    assert.deepEqual(got[6], nested);
    assert.deepEqual(got[7], { type: 'boolean', value: false });
  });

  it('enums, local and foreign, in variants and as dict keys, travel as full strings', async () => {
    const got = await f.client.EchoEnums('Blue', 'Circle', { type: 'Shape', value: 'Square' }, new Map([['Red', ['Circle', 'Square']]]));
    assert.deepEqual(got, ['Blue', 'Circle', { type: 'Shape', value: 'Square' }, new Map([['Red', ['Circle', 'Square']]])]);
    const viaString = await f.client.EchoEnums('Red', 'Square', { type: 'string', value: 'net.example.Test.Everything.Color.Nope' }, new Map());
    assert.deepEqual(viaString[2], { type: 'string', value: 'net.example.Test.Everything.Color.Nope' });
    // A plain string that happens to be an enum string decodes as the enum (sdbusplus order).
    const ambiguous = await f.client.EchoEnums('Red', 'Square', { type: 'string', value: 'net.example.Test.Everything.Color.Green' }, new Map());
    assert.deepEqual(ambiguous[2], { type: 'Color', value: 'Green' });
  });

  it('on the wire, enums are "<interface>.<Enum>.<Value>"', async () => {
    const reply = await f.clientConnection.call({
      destination: 'net.example.Test',
      path: '/net/example/test/obj1',
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: ['net.example.Test.Everything', 'Shape'],
    });
    assert.deepEqual((reply!.body[0] as rt.Variant).value, 'net.example.Test.Foreign.Shape.Square');
  });

  it('an unknown enum string is xyz.openbmc_project.sdbusplus.Error.InvalidEnumString', async () => {
    await assert.rejects(
      f.clientConnection.call({
        destination: 'net.example.Test',
        path: '/net/example/test/obj1',
        interface: 'net.example.Test.Everything',
        member: 'EchoEnums',
        signature: 'ssva{sas}',
        body: ['net.example.Test.Everything.Color.Purple', 'net.example.Test.Foreign.Shape.Circle', new rt.Variant('s', 'x'), {}],
      }),
      (e: rt.DBusError) => e.type === 'xyz.openbmc_project.sdbusplus.Error.InvalidEnumString' && /Purple/.test(e.text),
    );
  });

  it('a handler returning a value outside its enum is refused on the way out, not sent', async () => {
    await assert.rejects(f.client.ColorFromString('Purple'), (e: rt.DBusError) => e.type === rt.StandardError.InternalFailure);
    assert.ok(f.service.logged.some((l) => /Purple/.test(l)), 'the real reason is logged locally');
  });

  it('bad arguments fail in the client with the argument named, before anything is sent', async () => {
    await assert.rejects(
      f.client.EchoSimple(256, true, 0, 0, 0, 0, 0n, 0n, 0, '', '/', '', 0n, 0n),
      /EchoSimple: argument Byte: expected byte \(integer 0\.\.255\), got number 256/,
    );
    await assert.rejects(f.client.EchoSimple(0, true, 0, 0, 0, 0, 0n, 0n, 0, '', 'not/a/path', '', 0n, 0n), /argument Path: expected object path/);
    await assert.rejects(f.client.EchoEnums('Purple' as 'Red', 'Circle', { type: 'string', value: '' }, new Map()), /argument Color: expected one of net\.example\.Test\.Everything\.Color/);
    await assert.rejects(f.client.EchoSimple(0, true, 0, 0, 0, 0, 0n, -1n, 0, '', '/', '', 0n, 0n), /argument Uint64/);
  });
});
