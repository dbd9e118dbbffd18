// Every interface of the upstream corpus, generated and served together on
// one object, through `busctl introspect`: what busctl shows agrees with the
// YAML for all 348 real interfaces (signatures, access, flags, hidden ones
// absent), not only for our fixture.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as rt from '../../../codegen/runtime/index.js';
import { moduleFile } from '../../../codegen/src/emit/layout.js';
import { loadCorpus } from '../../../codegen/src/parse/index.js';
import type { Corpus } from '../../../codegen/src/model.js';
import { startPrivateBus, type PrivateBus } from '../../support/private-bus.js';
import { CORPUS_INTERFACES, generateCorpusTo, requireCorpus, scratchDir } from '../corpus/corpus-helpers.js';
import { actualRows, busctlOk, expectedRows, parseIntrospect } from './busctl.js';

const SERVICE = 'net.example.Corpus';
const OBJECT = '/corpus/all';

describe('busctl introspect of all corpus interfaces on one object', function () {
  this.timeout(600_000); // a hang guard only: generating and importing 348 modules is minutes on a loaded machine
  let corpus: Corpus;
  let bus: PrivateBus;
  let connection: rt.Connection;

  before(async () => {
    corpus = loadCorpus({ root: requireCorpus() }).corpus;
    const out = scratchDir('test-codegen-busctl/corpus');
    generateCorpusTo(out);
    bus = await startPrivateBus();
    connection = await rt.Connection.open({ address: bus.address });
    const objects = new rt.ObjectServer(connection, { log: rt.silentLogger });
    const servers: rt.ServerInterface[] = [];
    for (const name of corpus.interfaces.keys()) {
      const mod = (await import(pathToFileURL(join(out, moduleFile(name, 'server'))).href)) as Record<string, unknown>;
      const Server = Object.values(mod).find((v) => typeof v === 'function' && (v as { interfaceName?: string }).interfaceName === name) as new (o: object) => rt.ServerInterface;
      servers.push(new Server({ log: rt.silentLogger }));
    }
    objects.add(OBJECT, ...servers);
    await connection.requestName(SERVICE);
  });
  after(async () => {
    await connection?.close();
    await bus?.stop();
  });

  it(`lists all ${CORPUS_INTERFACES} interfaces, each member as the YAML says`, async () => {
    const table = parseIntrospect(await busctlOk(bus.address, 'introspect', [SERVICE, OBJECT]));
    const shown = [...table.keys()].filter((n) => !n.startsWith('org.freedesktop.DBus.'));
    assert.equal(shown.length, CORPUS_INTERFACES);
    const wrong: string[] = [];
    for (const [name, iface] of corpus.interfaces) {
      const rows = table.get(name);
      if (!rows) {
        wrong.push(`${name}: not shown`);
        continue;
      }
      const got = actualRows(rows).map((r) => JSON.stringify(r));
      const want = expectedRows(iface).map((r) => JSON.stringify(r));
      const missing = want.filter((r) => !got.includes(r));
      const extra = got.filter((r) => !want.includes(r));
      if (missing.length || extra.length) wrong.push(`${name}:\n   expected ${missing.join('\n            ')}\n   shown    ${extra.join('\n            ')}`);
    }
    assert.equal(wrong.length, 0, wrong.slice(0, 15).join('\n'));
    const compared = [...corpus.interfaces.values()].reduce((n, i) => n + expectedRows(i).length, 0);
    assert.ok(compared > 1000, `compared ${compared} members`);
  });
});
