// The round-trip fixture's generated server seen through systemd's busctl,
// the tool OpenBMC developers poke services with: introspection agrees with
// the YAML, calls and properties work with busctl's own marshalling.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as rt from '../../../codegen/runtime/index.js';
import { loadCorpus } from '../../../codegen/src/parse/index.js';
import type { InterfaceDef } from '../../../codegen/src/model.js';
import { repoRoot } from '../corpus/corpus-helpers.js';
import { Everything, MANAGER, OBJECT, SERVICE, eventually, startFixture, type Fixture } from '../roundtrip/everything-service.js';
import { actualRows, busctl, busctlJson, busctlOk, expectedRows, monitor, parseIntrospect } from './busctl.js';

const EVERYTHING = 'net.example.Test.Everything';
const FOREIGN = 'net.example.Test.Foreign';

function fixtureInterfaces(): Map<string, InterfaceDef> {
  const { corpus, diagnostics } = loadCorpus({ root: join(repoRoot, 'test', 'codegen', 'fixtures', 'roundtrip') });
  assert.deepEqual(diagnostics, []);
  return corpus.interfaces;
}

/** Everything but the change-signal flags (checked on their own below). */
const withoutEmits = (rows: ReturnType<typeof expectedRows>) =>
  rows.map((r) => ({ ...r, flags: r.flags.filter((f) => f !== 'emits-change' && f !== 'emits-invalidation') }));

describe('busctl against the generated Everything server', function () {
  this.timeout(60_000);
  let f: Fixture;
  let yaml: Map<string, InterfaceDef>;
  let address: string;
  before(() => {
    yaml = fixtureInterfaces();
  });
  beforeEach(async () => {
    f = await startFixture();
    address = f.bus.address;
  });
  afterEach(async () => f?.stop());

  describe('busctl introspect', () => {
    let table: Map<string, ReturnType<typeof parseIntrospect> extends Map<string, infer R> ? R : never>;
    beforeEach(async () => {
      table = parseIntrospect(await busctlOk(address, 'introspect', [SERVICE, OBJECT]));
    });

    it('lists the YAML interfaces next to the standard ones', () => {
      assert.deepEqual(
        [...table.keys()].sort(),
        [EVERYTHING, FOREIGN, 'org.freedesktop.DBus.Introspectable', 'org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Properties'].sort(),
      );
    });

    for (const name of [EVERYTHING, FOREIGN]) {
      it(`${name}: every method, property and signal of the YAML with its signature, writable/const/deprecated/no-reply flags; hidden ones absent`, () => {
        const expected = expectedRows(yaml.get(name)!);
        assert.ok(expected.length > 0);
        assert.deepEqual(withoutEmits(actualRows(table.get(name)!)), withoutEmits(expected));
      });

      it(`${name}: change signalling (emits-change / emits-invalidation / none) as sdbus++ derives it from the flags`, () => {
        const emits = (rows: ReturnType<typeof expectedRows>) =>
          rows.filter((r) => r.type === 'property').map((r) => `${r.name}: ${r.flags.filter((x) => x.startsWith('emits-') || x === 'const').join(' ') || 'no change signal'}`);
        assert.deepEqual(emits(actualRows(table.get(name)!)), emits(expectedRows(yaml.get(name)!)));
      });
    }

    it('the fixture exercises every flag busctl shows', () => {
      const flags = new Set(actualRows(table.get(EVERYTHING)!).flatMap((r) => r.flags));
      for (const flag of ['const', 'emits-change', 'emits-invalidation', 'writable', 'deprecated', 'no-reply']) assert.ok(flags.has(flag), `${flag} appears`);
      const hidden = [...yaml.get(EVERYTHING)!.methods, ...yaml.get(EVERYTHING)!.properties].filter((m) => (m.flags as string[]).includes('hidden'));
      assert.ok(hidden.length >= 2, 'the YAML has hidden members');
      for (const h of hidden) assert.ok(!table.get(EVERYTHING)!.some((r) => r.name === h.name), `${h.name} is hidden`);
    });

    it('explicit properties carry the sd-bus Explicit annotation, are left out of GetAll (no value shown) and readable with get-property', async () => {
      const xml = await busctlOk(address, 'introspect', [SERVICE, OBJECT], ['--xml-interface']);
      const explicit = yaml.get(EVERYTHING)!.properties.filter((p) => p.flags.includes('explicit'));
      assert.ok(explicit.length > 0);
      for (const p of explicit) {
        const block = xml.match(new RegExp(`<property name="${p.name}"[^>]*>([\\s\\S]*?)</property>`));
        assert.ok(block, `${p.name} in the XML`);
        assert.match(block[1]!, /org\.freedesktop\.systemd1\.Explicit" value="true"/);
        assert.equal(table.get(EVERYTHING)!.find((r) => r.name === p.name)!.value, '-');
      }
      f.service.Explicit = new Uint8Array([7, 8]);
      assert.deepEqual(await busctlJson(address, 'get-property', [SERVICE, OBJECT, EVERYTHING, 'Explicit']), { type: 'ay', data: [7, 8] });
    });

    it('property values shown are the YAML defaults', () => {
      const value = (n: string) => table.get(EVERYTHING)!.find((r) => r.name === n)!.value;
      assert.equal(value('Writable'), '"hello"');
      assert.equal(value('Constant'), '7');
      assert.equal(value('ReadOnly'), '-5');
      assert.equal(value('Color'), '"net.example.Test.Everything.Color.Green"');
      assert.equal(value('Biggest'), '18446744073709551615');
      assert.equal(value('Limit'), 'inf');
    });
  });

  describe('busctl call', () => {
    it('EchoSimple: every basic type marshalled by busctl comes back unchanged', async () => {
      const args = ['1', 'true', '-2', '3', '-4', '5', '-6', '7', '8.5', 'hi there', '/a/b', 'a{sv}', '9', '-10'];
      const r = await busctlJson(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'EchoSimple', 'ybnqiuxtdsogtx', ...args]);
      assert.equal(r.type, 'ybnqiuxtdsogtx');
      assert.deepEqual(r.data, [1, true, -2, 3, -4, 5, -6, 7, 8.5, 'hi there', '/a/b', 'a{sv}', 9, -10]);
    });

    it('EchoContainers: arrays, dicts, structs, nested variants come back unchanged', async () => {
      // busctl's syntax: arrays and dicts as a count then the items, structs
      // as their members, variants as a signature then the value.
      // prettier-ignore
      const args = [
        '2', 'a', 'b c',
        '3', '0', '127', '255',
        '2', '5', '4000000000',
        '1', 'k', '-7',
        '1', '9', '2', 'x', 'y',
        'str', '-5', '2', '1', '2',
        '1', '/p', '2', 'n', 'x', '5', 'l', 'as', '1', 'z',
        's', 'hello',
      ];
      const sig = 'asayaua{sx}a{tas}(siay)a(oa{sv})v';
      // busctl's JSON writer refuses dicts with non-string keys (a{tas}), so compare its text form.
      const out = await busctlOk(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'EchoContainers', sig, ...args]);
      const quoted = new Set(['a', 'b c', 'k', 'x', 'y', 'str', '/p', 'n', 'l', 'z', 'hello']);
      // Strings are quoted in busctl's output; the variant signatures inside a{sv} and v are not.
      const expected = args.map((a, i) => (quoted.has(a) && !(a === 'x' && args[i - 1] === 'n') ? `"${a}"` : a)).join(' ');
      assert.equal(out.trim(), `${sig} ${expected}`);
    });

    it('EchoEnums: enums travel as full strings; a bad enum string is InvalidEnumString', async () => {
      const red = 'net.example.Test.Everything.Color.Red';
      const circle = 'net.example.Test.Foreign.Shape.Circle';
      const r = await busctlJson(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'EchoEnums', 'ssva{sas}', red, circle, 's', 'free text', '1', red, '1', circle]);
      assert.deepEqual(r.data, [red, circle, { type: 's', data: 'free text' }, { [red]: [circle] }]);
      const bad = await busctl(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'EchoEnums', 'ssva{sas}', 'Red', circle, 's', 'x', '0']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /Red/);
      const reply = await f.clientConnection
        .call({ destination: SERVICE, path: OBJECT, interface: EVERYTHING, member: 'EchoEnums', signature: 'ssva{sas}', body: ['Red', circle, new rt.Variant('s', 'x'), {}] })
        .catch((e: { type?: string }) => e);
      assert.equal((reply as { type?: string }).type, 'xyz.openbmc_project.sdbusplus.Error.InvalidEnumString');
    });

    it('a declared error reaches busctl with its name and message; an undeclared failure leaks nothing', async () => {
      const declared = await busctl(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'Fail', 's', 'declared']);
      assert.notEqual(declared.code, 0);
      assert.match(declared.stderr, /it broke on purpose/);
      const plain = await busctl(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'Fail', 's', 'plain']);
      assert.notEqual(plain.code, 0);
      assert.doesNotMatch(plain.stderr, /secret|\/root|at .*\.ts/);
    });

    it('a no_reply method runs for busctl --expect-reply=no, and still answers a caller that expects a reply (as sdbus++ servers do)', async () => {
      const quiet = await busctl(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'Forget'], ['--expect-reply=no']);
      assert.equal(quiet.code, 0, quiet.stderr);
      await eventually(() => f.service.Writable === 'forgotten');
      // sd-bus only annotates no_reply methods; whether a reply is sent is up to
      // the caller's NO_REPLY_EXPECTED flag, so plain `busctl call` gets one.
      f.service.Writable = 'again';
      const started = Date.now();
      const r = await busctl(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'Forget'], ['--timeout=5']);
      assert.equal(f.service.Writable, 'forgotten');
      assert.equal(r.code, 0, `no reply after ${Date.now() - started} ms: ${r.stderr.trim()}`);
    });

    it('a method without reply values answers busctl with an empty reply', async () => {
      const out = await busctlOk(address, 'call', [SERVICE, OBJECT, EVERYTHING, 'Poke', 's', 'poked']);
      assert.equal(out.trim(), '');
      assert.equal(f.service.Writable, 'poked');
    });
  });

  describe('busctl get-property / set-property', () => {
    it('get-property reads typed values (string, enum, dict of variants)', async () => {
      assert.deepEqual(await busctlJson(address, 'get-property', [SERVICE, OBJECT, EVERYTHING, 'Writable']), { type: 's', data: 'hello' });
      assert.deepEqual(await busctlJson(address, 'get-property', [SERVICE, OBJECT, FOREIGN, 'Current']), { type: 's', data: 'net.example.Test.Foreign.Shape.Circle' });
      f.service.Table = new Map<string, never>([['a', { type: 'int64', value: 3n } as never]]);
      assert.deepEqual(await busctlJson(address, 'get-property', [SERVICE, OBJECT, EVERYTHING, 'Table']), { type: 'a{sv}', data: { a: { type: 'x', data: 3 } } });
    });

    it('a hidden property is out of introspection and GetAll but still readable by name, as with sd-bus', async () => {
      f.service.Hidden = 12;
      assert.deepEqual(await busctlJson(address, 'get-property', [SERVICE, OBJECT, EVERYTHING, 'Hidden']), { type: 'q', data: 12 });
      const all = await busctlJson(address, 'call', [SERVICE, OBJECT, 'org.freedesktop.DBus.Properties', 'GetAll', 's', EVERYTHING]);
      assert.ok(!('Hidden' in all.data[0]));
    });

    it('set-property on a writable property changes it for the service and every reader', async () => {
      await busctlOk(address, 'set-property', [SERVICE, OBJECT, EVERYTHING, 'Writable', 's', 'set by busctl']);
      assert.equal(f.service.Writable, 'set by busctl');
      assert.equal(await f.client.get('Writable'), 'set by busctl');
      assert.deepEqual(await busctlJson(address, 'get-property', [SERVICE, OBJECT, EVERYTHING, 'Writable']), { type: 's', data: 'set by busctl' });
      await busctlOk(address, 'set-property', [SERVICE, OBJECT, EVERYTHING, 'Color', 's', 'net.example.Test.Everything.Color.Blue']);
      assert.equal(f.service.Color, 'Blue');
    });

    for (const [name, sig, value] of [['Constant', 'u', '99'], ['ReadOnly', 'x', '99']] as const) {
      it(`set-property on ${name} (not writable) fails and the value stays`, async () => {
        const before = await busctlJson(address, 'get-property', [SERVICE, OBJECT, EVERYTHING, name]);
        const r = await busctl(address, 'set-property', [SERVICE, OBJECT, EVERYTHING, name, sig, value]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /not writable|read.?only/i);
        assert.deepEqual(await busctlJson(address, 'get-property', [SERVICE, OBJECT, EVERYTHING, name]), before);
      });
    }

    it('set-property with the wrong type or a bad enum string fails and the value stays', async () => {
      const wrongType = await busctl(address, 'set-property', [SERVICE, OBJECT, EVERYTHING, 'Writable', 'i', '3']);
      assert.notEqual(wrongType.code, 0);
      const badEnum = await busctl(address, 'set-property', [SERVICE, OBJECT, EVERYTHING, 'Color', 's', 'Purple']);
      assert.notEqual(badEnum.code, 0);
      assert.equal(f.service.Writable, 'hello');
      assert.equal(f.service.Color, 'Green');
    });
  });

  describe('busctl monitor', () => {
    it('sees the typed signal and one PropertiesChanged per turn: changed values, invalidated names, const ones not announced', async () => {
      const m = monitor(address, SERVICE);
      try {
        let n = 0;
        // A Happened the monitor saw whole: it may start listening between a
        // Poke's PropertiesChanged and its signal, so take one preceded by its PropertiesChanged.
        const happened = await m.until(() => f.client.Poke(`watched ${++n}`), (x) => x.member === 'Happened' && m.messages[m.messages.indexOf(x) - 1]?.member === 'PropertiesChanged');
        const text = happened.payload.data[0] as string;
        assert.match(text, /^watched \d+$/);
        assert.equal(happened.interface, EVERYTHING);
        assert.equal(happened.path, OBJECT);
        assert.deepEqual(happened.payload, { type: 'ssa{sv}', data: [text, 'net.example.Test.Everything.Color.Blue', { n: { type: 'x', data: 42 } }] });
        // The changes Poke made are flushed in one PropertiesChanged just before its signal.
        const changes = m.messages.filter((x) => x.member === 'PropertiesChanged' && x.payload.data[0] === EVERYTHING);
        const before = m.messages.slice(0, m.messages.indexOf(happened)).filter((x) => x.member === 'PropertiesChanged');
        const last = before.at(-1)!;
        assert.ok(last, 'a PropertiesChanged came before the signal');
        assert.equal(last.payload.type, 'sa{sv}as');
        assert.deepEqual(Object.keys(last.payload.data[1]).sort(), ['ReadOnly', 'Writable']);
        assert.deepEqual(last.payload.data[1].Writable, { type: 's', data: text });
        assert.deepEqual(last.payload.data[2], ['Invalidating']);
        // Poke also bumps the const property: never announced.
        assert.ok(!changes.some((c) => 'Constant' in c.payload.data[1] || c.payload.data[2].includes('Constant')));
      } finally {
        await m.stop();
      }
    });

    it('sees InterfacesAdded and InterfacesRemoved from the ObjectManager when objects come and go', async () => {
      const m = monitor(address, SERVICE);
      const extra = `${MANAGER}/extra`;
      try {
        let n = 0;
        const added = await m.until(
          async () => {
            f.objects.remove(extra);
            f.objects.add(extra, new Everything([]));
            n++;
          },
          (x) => x.member === 'InterfacesAdded',
        );
        assert.equal(added.path, MANAGER);
        assert.equal(added.interface, 'org.freedesktop.DBus.ObjectManager');
        assert.equal(added.payload.type, 'oa{sa{sv}}');
        assert.equal(added.payload.data[0], extra);
        assert.deepEqual(added.payload.data[1][EVERYTHING].Writable, { type: 's', data: 'hello' });
        assert.ok(!('Explicit' in added.payload.data[1][EVERYTHING]), 'explicit properties are not in InterfacesAdded');
        const removed = await m.until(async () => f.objects.remove(extra), (x) => x.member === 'InterfacesRemoved');
        assert.deepEqual(removed.payload, { type: 'oas', data: [extra, [EVERYTHING]] });
        assert.ok(n >= 1);
      } finally {
        await m.stop();
      }
    });
  });

  describe('busctl tree and ObjectManager', () => {
    it('busctl tree shows the object and the manager path above it', async () => {
      const tree = await busctlOk(address, 'tree', [SERVICE], ['--list']);
      const paths = tree.trim().split('\n').map((l) => l.trim());
      for (const p of ['/', '/net', '/net/example', MANAGER, OBJECT]) assert.ok(paths.includes(p), `${p} in ${JSON.stringify(paths)}`);
    });

    it('busctl introspect of the manager path shows org.freedesktop.DBus.ObjectManager with its standard members', async () => {
      const table = parseIntrospect(await busctlOk(address, 'introspect', [SERVICE, MANAGER]));
      const rows = table.get('org.freedesktop.DBus.ObjectManager');
      assert.ok(rows, `interfaces at ${MANAGER}: ${[...table.keys()].join(', ')}`);
      assert.deepEqual(actualRows(rows).map((r) => `${r.type} ${r.name} ${r.signature}`), [
        'method GetManagedObjects -|a{oa{sa{sv}}}',
        'signal InterfacesAdded oa{sa{sv}}',
        'signal InterfacesRemoved oas',
      ]);
    });

    it('GetManagedObjects through busctl lists the object with the same properties as GetAll, explicit and hidden ones left out (as sd-bus does)', async () => {
      const r = await busctlJson(address, 'call', [SERVICE, MANAGER, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects']);
      assert.equal(r.type, 'a{oa{sa{sv}}}');
      const objects = r.data[0] as Record<string, Record<string, Record<string, unknown>>>;
      assert.deepEqual(Object.keys(objects), [OBJECT]);
      assert.deepEqual(Object.keys(objects[OBJECT]!).sort(), [EVERYTHING, FOREIGN]);
      for (const name of [EVERYTHING, FOREIGN]) {
        const all = await busctlJson(address, 'call', [SERVICE, OBJECT, 'org.freedesktop.DBus.Properties', 'GetAll', 's', name]);
        assert.deepEqual(objects[OBJECT]![name], all.data[0]);
        const shown = yaml.get(name)!.properties.filter((p) => !p.flags.includes('explicit') && !p.flags.includes('hidden')).map((p) => p.name).sort();
        assert.deepEqual(Object.keys(objects[OBJECT]![name]!).sort(), shown);
      }
    });
  });
});
