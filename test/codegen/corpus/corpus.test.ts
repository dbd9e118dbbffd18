// The whole upstream phosphor-dbus-interfaces tree goes through the
// generator: every interface gets common/server/client modules, every errors
// file an error module, every interface docs and introspection XML; the
// result compiles with tsc --strict, is byte-for-byte reproducible, and the
// 32-bit ABI changes exactly the size/ssize signatures.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { loadCorpus } from '../../../codegen/src/parse/index.js';
import { checkOutput } from '../../../codegen/src/output.js';
import { moduleFile } from '../../../codegen/src/emit/layout.js';
import type { GeneratedFile } from '../../../codegen/src/generate.js';
import type { Corpus } from '../../../codegen/src/model.js';
import { requireCommand } from '../../support/require-command.js';
import { startPrivateBus, type PrivateBus } from '../../support/private-bus.js';
import * as rt from '../../../codegen/runtime/index.js';
import { interfaceMembers } from './introspection-xml.js';
import {
  CORPUS_ERROR_FILES,
  CORPUS_INTERFACES,
  generateCorpus,
  generateCorpusTo,
  requireCorpus,
  scratchDir,
  typeCheck,
  usesSize,
} from './corpus-helpers.js';

const execFileAsync = promisify(execFile);

/**
 * dbus-next hands `ay` over as a Buffer, a Uint8Array subclass: the same
 * bytes, but deepStrictEqual tells the prototypes apart. Compare the bytes.
 */
function plainBytes(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(plainBytes);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [plainBytes(k), plainBytes(x)]));
  if (v instanceof Set) return new Set([...v].map(plainBytes));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainBytes(x)]));
  }
  return v;
}
const INTROSPECT_DTD = '/usr/share/xml/dbus-1/introspect.dtd';

describe('codegen on the whole phosphor-dbus-interfaces corpus', function () {
  this.timeout(180_000);
  let corpus: Corpus;
  let outDir: string;
  let files: GeneratedFile[];

  before(function () {
    const loaded = loadCorpus({ root: requireCorpus() });
    assert.deepEqual(loaded.diagnostics, [], 'the corpus loads without problems');
    corpus = loaded.corpus;
    outDir = scratchDir('test-codegen-corpus/lp64');
    files = generateCorpusTo(outDir).files;
  });

  it(`reads ${CORPUS_INTERFACES} interfaces and ${CORPUS_ERROR_FILES} errors files`, () => {
    assert.equal(corpus.interfaces.size, CORPUS_INTERFACES);
    assert.equal(corpus.errorFiles.size, CORPUS_ERROR_FILES);
  });

  it('writes common, server and client modules for every interface, an error module per errors file, and docs', () => {
    const byPath = new Set(files.map((f) => `${f.target}:${f.path}`));
    const missing: string[] = [];
    for (const name of corpus.interfaces.keys()) {
      for (const kind of ['common', 'server', 'client'] as const) {
        const p = moduleFile(name, kind);
        if (!byPath.has(`code:${p}`) || !existsSync(join(outDir, p))) missing.push(p);
      }
      for (const ext of ['md', 'xml']) {
        const p = `${name}.${ext}`;
        if (!byPath.has(`docs:${p}`) || !existsSync(join(outDir, 'docs', p))) missing.push(`docs/${p}`);
      }
    }
    for (const ns of corpus.errorFiles.keys()) {
      const p = moduleFile(ns, 'error');
      if (!byPath.has(`code:${p}`) || !existsSync(join(outDir, p))) missing.push(p);
    }
    assert.deepEqual(missing, []);
    // Nothing beyond those: 3 modules + 2 docs per interface, 1 module per errors file,
    // and an index.ts per folder on the way to them.
    const folders = new Set([...corpus.interfaces.keys(), ...corpus.errorFiles.keys()].flatMap((n) => n.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    assert.deepEqual(files.filter((f) => f.path.endsWith('/index.ts')).map((f) => f.path.slice(0, -'/index.ts'.length)).sort(), [...folders].sort());
    assert.equal(files.length, CORPUS_INTERFACES * 5 + CORPUS_ERROR_FILES + folders.size);
    assert.equal(files.filter((f) => f.path.endsWith('/error.ts')).length, CORPUS_ERROR_FILES);
  });

  it('every generated module compiles with tsc --strict (NodeNext, no emit)', async () => {
    const { code, output } = await typeCheck(outDir);
    assert.equal(code, 0, `tsc reported errors in the generated corpus:\n${output.split('\n').slice(0, 60).join('\n')}`);
    assert.equal(output.trim(), '');
  });

  describe('every corpus interface served on a private bus', function () {
    // One object per interface, each served by its generated server class
    // (constructed with the YAML defaults) and read by its generated client.
    let bus: PrivateBus;
    let serverConnection: rt.Connection;
    let clientConnection: rt.Connection;
    const served: { name: string; path: string; server: rt.ServerInterface; Client: new (c: rt.Connection, s: string, p: string) => rt.ClientInterface }[] = [];
    const SERVICE = 'net.example.Corpus';

    before(async function () {
      bus = await startPrivateBus();
      serverConnection = await rt.Connection.open({ address: bus.address });
      clientConnection = await rt.Connection.open({ address: bus.address, callTimeoutMs: 10_000 });
      const objects = new rt.ObjectServer(serverConnection, { log: rt.silentLogger });
      let i = 0;
      for (const name of [...corpus.interfaces.keys()].sort()) {
        const load = async (kind: 'server' | 'client') => {
          const mod = (await import(pathToFileURL(join(outDir, moduleFile(name, kind))).href)) as Record<string, unknown>;
          return Object.values(mod).find((v) => typeof v === 'function' && (v as { interfaceName?: string }).interfaceName === name) as never;
        };
        const Server = (await load('server')) as new (o: rt.ServerOptions<object>) => rt.ServerInterface;
        const Client = (await load('client')) as (typeof served)[number]['Client'];
        // Abstract only for TypeScript: constructing it directly is fine for reading properties.
        const server = new Server({ log: rt.silentLogger });
        const path = `/corpus/i${i++}`;
        objects.add(path, server);
        served.push({ name, path, server, Client });
      }
      await serverConnection.requestName(SERVICE);
    });
    after(async () => {
      await clientConnection?.close();
      await serverConnection?.close();
      await bus?.stop();
    });

    it('every server module loads and constructs with its YAML defaults, every client module loads', () => {
      assert.equal(served.length, CORPUS_INTERFACES);
      for (const s of served) assert.equal(s.server.$spec.name, s.name);
    });

    it('GetAll through each generated client returns exactly the server-side values (defaults survive the wire: NaN, maxint, enums, containers)', async () => {
      const wrong: string[] = [];
      for (const s of served) {
        const client = new s.Client(clientConnection, SERVICE, s.path);
        const got = (await client.getAll()) as Record<string, unknown>;
        const iface = corpus.interfaces.get(s.name)!;
        const visible = iface.properties.filter((p) => !p.flags.includes('explicit') && !p.flags.includes('hidden'));
        const want: Record<string, unknown> = {};
        for (const p of visible) want[p.name] = s.server.getProperty(p.name as never);
        try {
          assert.deepStrictEqual(plainBytes(got), want);
        } catch (e) {
          wrong.push(`${s.name}: ${(e as Error).message}`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    it('what each object answers to Introspect matches the generated docs XML, member by member (args, access, annotations)', async () => {
      const wrong: string[] = [];
      for (const s of served) {
        const reply = await clientConnection.call({ destination: SERVICE, path: s.path, interface: 'org.freedesktop.DBus.Introspectable', member: 'Introspect' });
        const live = interfaceMembers(reply!.body[0] as string, s.name);
        const docs = interfaceMembers(readFileSync(join(outDir, 'docs', `${s.name}.xml`), 'utf8'), s.name);
        const iface = corpus.interfaces.get(s.name)!;
        const members = [...iface.methods, ...iface.properties, ...iface.signals].filter((m) => !(m.flags as string[]).includes('hidden')).length;
        if (live.length !== members) wrong.push(`${s.name}: ${live.length} members served, ${members} in the YAML`);
        if (JSON.stringify(live) !== JSON.stringify(docs)) {
          const onlyLive = live.filter((x) => !docs.includes(x));
          const onlyDocs = docs.filter((x) => !live.includes(x));
          wrong.push(`${s.name}:\n  served only: ${onlyLive.join('\n               ')}\n  docs only:   ${onlyDocs.join('\n               ')}`);
        }
      }
      assert.equal(wrong.length, 0, wrong.slice(0, 10).join('\n'));
    });
  });

  it('the introspection XML of every interface is valid against the D-Bus introspect DTD and names its interface', async () => {
    requireCommand('xmllint', 'libxml2-utils');
    assert.ok(existsSync(INTROSPECT_DTD), `${INTROSPECT_DTD} is missing: install the Debian package 'libdbus-1-dev'`);
    const docs = join(outDir, 'docs');
    const xmlFiles = readdirSync(docs).filter((f) => f.endsWith('.xml'));
    assert.equal(xmlFiles.length, CORPUS_INTERFACES);
    try {
      await execFileAsync('xmllint', ['--noout', '--dtdvalid', INTROSPECT_DTD, ...xmlFiles], { cwd: docs, maxBuffer: 16 << 20 });
    } catch (e) {
      assert.fail(`xmllint rejected generated XML:\n${(e as { stderr?: string }).stderr}`);
    }
    const wrong: string[] = [];
    for (const name of corpus.interfaces.keys()) {
      const xml = readFileSync(join(docs, `${name}.xml`), 'utf8');
      const names = [...xml.matchAll(/<interface name="([^"]+)"/g)].map((m) => m[1]);
      if (names.length !== 1 || names[0] !== name) wrong.push(`${name}.xml names ${JSON.stringify(names)}`);
      const md = readFileSync(join(docs, `${name}.md`), 'utf8');
      if (!md.includes(name)) wrong.push(`${name}.md does not mention ${name}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('the introspection XML lists every non-hidden method, property and signal of the YAML, and no hidden one', () => {
    const wrong: string[] = [];
    for (const iface of corpus.interfaces.values()) {
      const xml = readFileSync(join(outDir, 'docs', `${iface.name}.xml`), 'utf8');
      const names = (tag: string) => [...xml.matchAll(new RegExp(`<${tag} name="([^"]+)"`, 'g'))].map((m) => m[1]).sort();
      const expect = <T extends { name: string; flags: string[] }>(list: T[]) => list.filter((m) => !m.flags.includes('hidden')).map((m) => m.name).sort();
      for (const [tag, list] of [['method', iface.methods], ['property', iface.properties], ['signal', iface.signals]] as const) {
        const got = names(tag);
        const want = expect(list as { name: string; flags: string[] }[]);
        if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${iface.name} ${tag}s: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('is deterministic: a second generation is byte-identical, in memory and against the files on disk', () => {
    const again = generateCorpus(outDir).files;
    assert.deepEqual(
      again.map((f) => `${f.target}:${f.path}`),
      files.map((f) => `${f.target}:${f.path}`),
    );
    const differing = again.filter((f, i) => f.content !== files[i]!.content).map((f) => f.path);
    assert.deepEqual(differing, []);
    assert.deepEqual(checkOutput({ code: outDir, docs: join(outDir, 'docs') }, again), []);
  });

  describe('--abi ilp32', function () {
    let ilp32Dir: string;
    let ilp32: GeneratedFile[];
    before(() => {
      ilp32Dir = scratchDir('test-codegen-corpus/ilp32');
      ilp32 = generateCorpusTo(ilp32Dir, 'ilp32').files;
    });

    it('changes the files of exactly the interfaces that use size/ssize', () => {
      const lp64 = new Map(files.map((f) => [`${f.target}:${f.path}`, f.content]));
      const sizeUsers = [...corpus.interfaces.values()].filter(usesSize).map((i) => i.name).sort();
      assert.ok(sizeUsers.length >= 10, `expected many size users in the corpus, found ${sizeUsers.length}`);
      const changedInterfaces = new Set<string>();
      for (const f of ilp32) {
        // Imports of the runtime differ only by the output folder depth, which is the same here.
        if (lp64.get(`${f.target}:${f.path}`) === f.content) continue;
        const name = f.target === 'docs' ? f.path.replace(/\.(md|xml)$/, '') : f.path.split('/').slice(0, -1).join('.');
        changedInterfaces.add(name);
      }
      assert.deepEqual([...changedInterfaces].sort(), sizeUsers);
    });

    it('size becomes u and ssize i in signatures, codecs and docs (checked on MeasurementSet, Priority and VPD.Manager)', () => {
      const get = (list: GeneratedFile[], path: string) => list.find((f) => f.path === path)!.content;
      const ms = 'xyz.openbmc_project.Attestation.MeasurementSet';
      assert.match(get(files, `${ms}.xml`), /name="MeasurementIndices" type="at"/);
      assert.match(get(files, `${ms}.xml`), /name="SlotId" type="t"/);
      assert.match(get(ilp32, `${ms}.xml`), /name="MeasurementIndices" type="au"/);
      assert.match(get(ilp32, `${ms}.xml`), /name="SlotId" type="u"/);
      assert.match(get(ilp32, moduleFile(ms, 'common')), /rt\.array\(rt\.uint32\)/);
      assert.match(get(files, moduleFile(ms, 'common')), /rt\.array\(rt\.uint64\)/);

      const prio = 'xyz.openbmc_project.Common.Priority';
      assert.match(get(files, `${prio}.xml`), /<property name="Priority" type="t"/);
      assert.match(get(ilp32, `${prio}.xml`), /<property name="Priority" type="u"/);

      // ssize: com.ibm.VPD.Manager is the corpus' only user.
      const vpd = corpus.interfaces.get('com.ibm.VPD.Manager')!;
      const ssizeArgs = vpd.methods.flatMap((m) => [...m.parameters, ...m.returns]).filter((a) => a.typeText === 'ssize');
      assert.ok(ssizeArgs.length > 0, 'VPD.Manager still uses ssize');
      for (const a of ssizeArgs) {
        assert.match(get(files, 'com.ibm.VPD.Manager.xml'), new RegExp(`name="${a.name}" type="x"`));
        assert.match(get(ilp32, 'com.ibm.VPD.Manager.xml'), new RegExp(`name="${a.name}" type="i"`));
      }
    });

    it('the ilp32 output compiles with tsc --strict too', async () => {
      const { code, output } = await typeCheck(ilp32Dir);
      assert.equal(code, 0, `tsc reported errors in the ilp32 corpus:\n${output.split('\n').slice(0, 60).join('\n')}`);
    });
  });
});
