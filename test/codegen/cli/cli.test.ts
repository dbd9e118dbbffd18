// pdi-tsgen as a user runs it: a fresh process per command, exit codes,
// what goes to stdout and stderr, files written, checked and removed.
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { listInterfaces, loadCorpus } from '../../../codegen/src/parse/index.js';
import type { Corpus } from '../../../codegen/src/model.js';
import { foreignEnumInterfaces, repoRoot, requireCorpus, runtimeEntry, scratchDir, typeCheck, CORPUS_INTERFACES } from '../corpus/corpus-helpers.js';
import { EXPECTED_PROBLEMS, writeMalformedTree } from './malformed-tree.js';
import { runCli } from './run-cli.js';

/** Every .ts/.md/.xml file below dir, relative to it, sorted. */
function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : [relative(base, join(dir, e.name))]))
    .filter((p) => /\.(ts|md|xml)$/.test(p))
    .sort();
}

function noCrash(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace on stderr:\n${stderr}`);
  assert.doesNotMatch(stderr, /Unhandled|TypeError|ReferenceError/, stderr);
}

describe('pdi-tsgen command line', function () {
  this.timeout(120_000);
  let corpus: Corpus;
  before(() => {
    corpus = loadCorpus({ root: requireCorpus() }).corpus;
  });

  describe('usage', () => {
    it('--help prints the usage with every command and option and exits 0', async () => {
      for (const flag of ['--help', '-h']) {
        const r = await runCli([flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Usage: pdi-tsgen <command>/);
        for (const word of ['generate', '--check', 'list', 'errors', 'validate', '--root', '--out', '--docs', '--abi', '--runtime', 'ilp32', 'Exit status']) {
          assert.ok(r.stdout.includes(word), `help mentions ${word}`);
        }
        assert.equal(r.stderr, '');
      }
    });

    it('--version (and -v) prints the version of the pdi-tsgen package and exits 0', async () => {
      const version = JSON.parse(readFileSync(join(repoRoot, 'codegen', 'package.json'), 'utf8')).version as string;
      for (const flag of ['--version', '-v']) {
        const r = await runCli([flag], { viaBin: true });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `pdi-tsgen ${version}\n`);
      }
    });

    it('no command prints the usage and exits 2', async () => {
      const r = await runCli([]);
      assert.equal(r.code, 2);
      assert.match(r.stdout, /^Usage: pdi-tsgen/);
    });

    it('an unknown command exits 2 and says which', async () => {
      const r = await runCli(['frobnicate']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown command 'frobnicate'/);
      assert.match(r.stderr, /pdi-tsgen --help/);
      assert.equal(r.stdout, '');
    });

    it('an unknown option or a bad --abi exits 2 without a stack trace', async () => {
      const bogus = await runCli(['list', '--bogus']);
      assert.equal(bogus.code, 2);
      assert.match(bogus.stderr, /--bogus/);
      noCrash(bogus.stderr);
      const abi = await runCli(['generate', '--abi', 'sparc64']);
      assert.equal(abi.code, 2);
      assert.match(abi.stderr, /--abi must be lp64 or ilp32, not 'sparc64'/);
    });

    for (const viaBin of [false, true]) {
      it(`output into a closed pipe (pdi-tsgen list | head) ends quietly, without an EPIPE crash${viaBin ? ' (codegen/bin/pdi-tsgen.js)' : ''}`, async () => {
        for (const command of ['list', 'errors']) {
          const r = await runCli([command, '--root', requireCorpus()], { closeStdout: true, viaBin });
          noCrash(r.stderr);
          assert.doesNotMatch(r.stderr, /EPIPE/, `${command}: ${r.stderr.split('\n').slice(0, 6).join('\n')}`);
        }
      });
    }

    it('the command codegen/bin/pdi-tsgen.js behaves like the CLI: help, exit codes, list', async () => {
      const help = await runCli(['--help'], { viaBin: true });
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: pdi-tsgen/);
      const unknown = await runCli(['frobnicate'], { viaBin: true });
      assert.equal(unknown.code, 2);
      const list = await runCli(['list', '--root', requireCorpus()], { viaBin: true });
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout.trimEnd().split('\n').length, CORPUS_INTERFACES);
      const root = scratchDir('test-codegen-cli/malformed-bin');
      writeMalformedTree(root);
      const bad = await runCli(['validate', '--root', root], { viaBin: true });
      assert.equal(bad.code, 1);
    });
  });

  describe('list, errors, validate', () => {
    it(`list prints the ${CORPUS_INTERFACES} interfaces of the corpus, sorted, one a line`, async () => {
      const r = await runCli(['list', '--root', requireCorpus()]);
      assert.equal(r.code, 0, r.stderr);
      const names = r.stdout.trimEnd().split('\n');
      assert.equal(names.length, CORPUS_INTERFACES);
      assert.deepEqual(names, [...names].sort());
      assert.deepEqual(names, listInterfaces(requireCorpus()));
      assert.ok(names.includes('xyz.openbmc_project.VirtualMedia.Legacy'));
      for (const n of names) assert.match(n, /^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$/);
    });

    it('errors prints every D-Bus error of the corpus with its description', async () => {
      const r = await runCli(['errors', '--root', requireCorpus()]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      const expected = [...corpus.errorFiles.values()].flatMap((f) => f.errors.map((e) => e.fullName));
      assert.equal(lines.length, expected.length);
      assert.deepEqual(lines.map((l) => l.split('\t')[0]).sort(), expected.sort());
      const internal = lines.find((l) => l.startsWith('xyz.openbmc_project.Common.Error.InternalFailure\t'));
      assert.ok(internal, 'InternalFailure is listed');
      assert.ok(internal.split('\t')[1]!.length > 0, 'with its description');
    });

    it('errors on the project tree lists the virtual media errors', async () => {
      const r = await runCli(['errors', '--root', 'interfaces']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^xyz\.openbmc_project\.VirtualMedia\.Error\.\w+\t/m);
    });

    it('validate on the corpus finds no problems and says how much it read', async () => {
      const r = await runCli(['validate', '--root', requireCorpus()]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${CORPUS_INTERFACES} interface\\(s\\), ${corpus.errorFiles.size} errors file\\(s\\): no problems`));
    });

    it('validate on a malformed tree prints every problem of every file as file:line:col and exits 1', async () => {
      const root = scratchDir('test-codegen-cli/malformed');
      writeMalformedTree(root);
      const r = await runCli(['validate', '--root', root]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      noCrash(r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      const problems = lines.slice(0, -1);
      assert.equal(lines.at(-1), `pdi-tsgen: ${EXPECTED_PROBLEMS.length} problem(s)`);
      const missing = EXPECTED_PROBLEMS.filter(
        (p) => !problems.some((l) => l.startsWith(`${join(root, p.file)}:${p.line}:${p.column}: `) && l.includes(p.says)),
      );
      assert.deepEqual(missing, [], `stderr was:\n${r.stderr}`);
      assert.equal(problems.length, EXPECTED_PROBLEMS.length, `stderr was:\n${r.stderr}`);
      assert.ok(!r.stderr.includes('Good.interface.yaml'), 'the good file is not blamed');
    });

    it('generate on a malformed tree reports the same problems, writes nothing and exits 1', async () => {
      const root = scratchDir('test-codegen-cli/malformed-gen');
      writeMalformedTree(root);
      const out = join(root, '..', 'malformed-gen-out');
      rmSync(out, { recursive: true, force: true });
      const r = await runCli(['generate', '--root', root, '--out', out, '--docs', join(out, 'docs')]);
      assert.equal(r.code, 1);
      noCrash(r.stderr);
      assert.match(r.stderr, new RegExp(`${EXPECTED_PROBLEMS.length} problem\\(s\\); nothing generated`));
      assert.ok(!existsSync(out), 'no output folder');
    });
  });

  describe('generate and generate --check', () => {
    it('--check passes on the committed project bindings (npm run generate:check)', async () => {
      const r = await runCli(['generate', '--check', '--root', 'interfaces', '--out', 'bindings', '--docs', 'docs/interfaces', '--runtime', './codegen/runtime/index.ts']);
      assert.equal(r.code, 0, `bindings/ is not what the generator writes; run npm run generate:\n${r.stderr}`);
      assert.match(r.stdout, /file\(s\) up to date/);
    });

    it('--check passes on the committed round-trip bindings (test/codegen/generated)', async () => {
      const r = await runCli([
        'generate', '--check',
        '--root', 'test/codegen/fixtures/roundtrip',
        '--out', 'test/codegen/generated',
        '--docs', 'test/codegen/generated/docs',
        '--runtime', './codegen/runtime/index.ts',
      ]);
      assert.equal(r.code, 0, `test/codegen/generated is stale; regenerate it:\n${r.stderr}`);
    });

    it('--check --prune fails and names the file after a generated file is edited, removed, or a stale generated file appears; generate --prune repairs all', async () => {
      const dir = scratchDir('test-codegen-cli/check');
      const out = join(dir, 'bindings');
      const docs = join(dir, 'docs');
      const args = ['--prune', '--root', 'interfaces', '--out', out, '--docs', docs, '--runtime', './codegen/runtime/index.ts'];
      const first = await runCli(['generate', ...args]);
      assert.equal(first.code, 0, first.stderr);
      const generated = listFiles(dir);
      assert.ok(generated.length >= 20, `generated ${generated.length} files`);
      const clean = await runCli(['generate', '--check', ...args]);
      assert.equal(clean.code, 0, clean.stderr);

      const edited = join(out, 'xyz/openbmc_project/VirtualMedia/Legacy/client.ts');
      writeFileSync(edited, readFileSync(edited, 'utf8').replace('Mount(', 'Mount2('));
      const removed = join(docs, 'xyz.openbmc_project.VirtualMedia.Stats.xml');
      rmSync(removed);
      const stray = join(out, 'xyz/openbmc_project/VirtualMedia/Gone/client.ts');
      cpSync(edited, stray);
      const strayDoc = join(docs, 'xyz.openbmc_project.VirtualMedia.Gone.md');
      writeFileSync(strayDoc, `${readFileSync(join(docs, 'xyz.openbmc_project.VirtualMedia.Legacy.md'), 'utf8').split('\n')[0]}\n# gone\n`);
      const before = new Map(generated.map((p) => [p, existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : undefined]));

      const dirty = await runCli(['generate', '--check', ...args]);
      assert.equal(dirty.code, 1);
      assert.match(dirty.stderr, new RegExp(`out of date: .*${edited.replace(/[.]/g, '\\.')}`));
      assert.match(dirty.stderr, /missing: .*xyz\.openbmc_project\.VirtualMedia\.Stats\.xml/);
      assert.match(dirty.stderr, /not generated any more: .*VirtualMedia\/Gone\/client\.ts/);
      assert.match(dirty.stderr, /not generated any more: .*xyz\.openbmc_project\.VirtualMedia\.Gone\.md/);
      assert.match(dirty.stderr, /4 file\(s\) not up to date/);
      // --check writes nothing.
      for (const [p, content] of before) assert.equal(existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : undefined, content, `${p} untouched by --check`);
      assert.ok(existsSync(stray));

      const repair = await runCli(['generate', ...args]);
      assert.equal(repair.code, 0, repair.stderr);
      assert.match(repair.stdout, /2 written, 2 stale removed/);
      assert.ok(!existsSync(stray), 'stale module removed');
      assert.ok(!existsSync(strayDoc), 'stale doc removed');
      assert.deepEqual(listFiles(dir), generated);
      const again = await runCli(['generate', '--check', ...args]);
      assert.equal(again.code, 0, again.stderr);
    });

    it('generate INTERFACE also generates the interfaces whose enums it uses, and the result type-checks', async () => {
      const wanted = 'xyz.openbmc_project.Telemetry.ReportManager';
      const iface = corpus.interfaces.get(wanted)!;
      const foreign = foreignEnumInterfaces(iface);
      assert.ok(foreign.length > 0, `${wanted} uses foreign enums`);
      // The closure: foreign enums of the foreign interfaces too.
      const closure = new Set([wanted]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const n of [...closure]) {
          for (const f of foreignEnumInterfaces(corpus.interfaces.get(n)!)) if (!closure.has(f)) (closure.add(f), (grew = true));
        }
      }
      const dir = scratchDir('test-codegen-cli/one-interface');
      const r = await runCli(['generate', wanted, '--root', requireCorpus(), '--out', dir, '--runtime', runtimeEntry]);
      assert.equal(r.code, 0, r.stderr);
      const interfaces = new Set(
        listFiles(dir)
          .filter((p) => p.endsWith('/common.ts'))
          .map((p) => p.split('/').slice(0, -1).join('.')),
      );
      assert.deepEqual([...interfaces].sort(), [...closure].sort());
      for (const f of foreign) assert.ok(interfaces.has(f), `${f} came along`);
      const { code, output } = await typeCheck(dir);
      assert.equal(code, 0, output);
    });

    it('--abi ilp32 makes size u in the generated XML and codecs; the default is lp64 (t)', async () => {
      const name = 'xyz.openbmc_project.Common.Priority';
      for (const [abi, sig, codec] of [[undefined, 't', 'rt.uint64'], ['ilp32', 'u', 'rt.uint32'], ['lp64', 't', 'rt.uint64']] as const) {
        const dir = scratchDir(`test-codegen-cli/abi-${abi ?? 'default'}`);
        const r = await runCli(['generate', name, '--root', requireCorpus(), '--out', dir, '--docs', join(dir, 'docs'), '--runtime', runtimeEntry, ...(abi ? ['--abi', abi] : [])]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(readFileSync(join(dir, 'docs', `${name}.xml`), 'utf8'), new RegExp(`<property name="Priority" type="${sig}"`));
        assert.ok(readFileSync(join(dir, 'xyz/openbmc_project/Common/Priority/common.ts'), 'utf8').includes(`codec: ${codec}`), `${abi}: ${codec}`);
      }
    });

    it('generate of an interface that does not exist fails with the name, exit 1', async () => {
      const r = await runCli(['generate', 'xyz.openbmc_project.No.Such', '--root', requireCorpus(), '--out', scratchDir('test-codegen-cli/none')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /xyz\.openbmc_project\.No\.Such/);
      noCrash(r.stderr);
    });
  });

  describe('generate into a source tree', () => {
    const legacy = 'xyz.openbmc_project.VirtualMedia.Legacy';
    const stats = 'xyz.openbmc_project.VirtualMedia.Stats';
    const legacyFiles = ['xyz/openbmc_project/VirtualMedia/Legacy/client.ts', 'xyz/openbmc_project/VirtualMedia/Legacy/common.ts', 'xyz/openbmc_project/VirtualMedia/Legacy/server.ts'];

    it("the user's own files in --out and --docs survive generate and generate --prune, even next to generated ones", async () => {
      const dir = scratchDir('test-codegen-cli/user-files');
      const own: Record<string, string> = {
        'src/index.ts': "export * from './xyz/openbmc_project/VirtualMedia/Legacy/client.js';\n",
        'src/xyz/openbmc_project/VirtualMedia/Legacy/extra.ts': 'export const mine = 1;\n',
        'src/xyz/openbmc_project/VirtualMedia/Gone/client.ts': '// an old hand-written file named like a generated one\n',
        'docs/README.md': '# my docs\n',
        'docs/xyz.openbmc_project.VirtualMedia.Gone.xml': '<node/>\n',
      };
      for (const [p, content] of Object.entries(own)) {
        mkdirSync(join(dir, p, '..'), { recursive: true });
        writeFileSync(join(dir, p), content);
      }
      for (const prune of [[], ['--prune']]) {
        const r = await runCli(['generate', ...prune, '--root', 'interfaces', '--out', join(dir, 'src'), '--docs', join(dir, 'docs'), '--runtime', runtimeEntry]);
        assert.equal(r.code, 0, r.stderr);
        for (const [p, content] of Object.entries(own)) assert.equal(readFileSync(join(dir, p), 'utf8'), content, `${p} kept (${prune.join(' ') || 'no --prune'})`);
      }
      assert.ok(existsSync(join(dir, 'src', legacyFiles[0]!)));
    });

    it('a file of the user at a path the generator wants stops the run before anything is written, naming it; exit 1', async () => {
      const dir = scratchDir('test-codegen-cli/in-the-way');
      const mine = join(dir, 'xyz/openbmc_project/VirtualMedia/Legacy/client.ts');
      mkdirSync(join(mine, '..'), { recursive: true });
      writeFileSync(mine, 'export const handWritten = true;\n');
      const r = await runCli(['generate', '--root', 'interfaces', '--out', dir, '--runtime', runtimeEntry]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`not overwriting .*Legacy/client\\.ts: it was not written by pdi-tsgen`));
      noCrash(r.stderr);
      assert.equal(readFileSync(mine, 'utf8'), 'export const handWritten = true;\n');
      assert.deepEqual(listFiles(dir), ['xyz/openbmc_project/VirtualMedia/Legacy/client.ts'], 'nothing else written');
    });

    it('one interface at a time accumulates in a folder; --prune keeps only what this run generates', async () => {
      const dir = scratchDir('test-codegen-cli/incremental');
      const common = ['--root', 'interfaces', '--out', dir, '--runtime', runtimeEntry];
      assert.equal((await runCli(['generate', legacy, ...common])).code, 0);
      const second = await runCli(['generate', stats, ...common]);
      assert.equal(second.code, 0, second.stderr);
      assert.doesNotMatch(second.stdout, /removed/);
      const files = listFiles(dir);
      for (const f of legacyFiles) assert.ok(files.includes(f), `${f} from the first run kept`);
      const namespaceIndex = readFileSync(join(dir, 'xyz/openbmc_project/VirtualMedia/index.ts'), 'utf8');
      assert.match(namespaceIndex, /export \* as Legacy from '\.\/Legacy\/index\.js';/, 'the namespace index lists what the first run generated');
      assert.match(namespaceIndex, /export \* as Stats from/);
      assert.ok(files.includes('xyz/openbmc_project/VirtualMedia/Stats/common.ts'));
      const check = await runCli(['generate', '--check', stats, ...common]);
      assert.equal(check.code, 0, `without --prune, --check does not count other generated files: ${check.stderr}`);
      const checkPrune = await runCli(['generate', '--check', '--prune', stats, ...common]);
      assert.equal(checkPrune.code, 1);
      assert.match(checkPrune.stderr, /not generated any more: .*Legacy\/client\.ts/);
      const pruned = await runCli(['generate', '--prune', stats, ...common]);
      assert.equal(pruned.code, 0, pruned.stderr);
      assert.match(pruned.stdout, /, 1 written, 5 stale removed/, 'Legacy (and its index), the VirtualMedia errors only Legacy used; the namespace index rewritten');
      assert.deepEqual(
        listFiles(dir).filter((f) => !f.endsWith('/index.ts')),
        ['xyz/openbmc_project/Common/error.ts', 'xyz/openbmc_project/VirtualMedia/Stats/client.ts', 'xyz/openbmc_project/VirtualMedia/Stats/common.ts', 'xyz/openbmc_project/VirtualMedia/Stats/server.ts'],
      );
      assert.doesNotMatch(readFileSync(join(dir, 'xyz/openbmc_project/VirtualMedia/index.ts'), 'utf8'), /Legacy/);
    });

    it('named interfaces bring only the errors files they declare errors from (the whole root brings all)', async () => {
      const errorFiles = (dir: string) => listFiles(dir).filter((p) => p.endsWith('/error.ts'));
      const one = scratchDir('test-codegen-cli/errors-one');
      assert.equal((await runCli(['generate', stats, '--root', 'interfaces', '--out', one, '--runtime', runtimeEntry])).code, 0);
      assert.deepEqual(errorFiles(one), ['xyz/openbmc_project/Common/error.ts'], `${stats} declares Common errors only`);
      const two = scratchDir('test-codegen-cli/errors-legacy');
      assert.equal((await runCli(['generate', legacy, '--root', 'interfaces', '--out', two, '--runtime', runtimeEntry])).code, 0);
      assert.deepEqual(errorFiles(two), ['xyz/openbmc_project/Common/error.ts', 'xyz/openbmc_project/VirtualMedia/error.ts']);
      const { code, output } = await typeCheck(two);
      assert.equal(code, 0, output);

      // From the corpus: one interface that declares errors of one namespace, not all 39 files.
      const wanted = [...corpus.interfaces.values()].find((i) => i.methods.some((m) => m.errors.length) && new Set(i.methods.flatMap((m) => m.errors).map((e) => e.slice(0, e.lastIndexOf('.Error.')))).size === 1)!;
      const namespace = wanted.methods.flatMap((m) => m.errors)[0]!.split('.Error.')[0]!;
      const three = scratchDir('test-codegen-cli/errors-corpus');
      const r = await runCli(['generate', wanted.name, '--root', requireCorpus(), '--out', three, '--runtime', runtimeEntry]);
      assert.equal(r.code, 0, r.stderr);
      const closure = listFiles(three).filter((p) => p.endsWith('/common.ts')).map((p) => corpus.interfaces.get(p.split('/').slice(0, -1).join('.'))!);
      const declared = new Set(closure.flatMap((i) => [...i.methods.flatMap((m) => m.errors), ...i.properties.flatMap((p) => p.errors)]).map((e) => e.split('.Error.')[0]!).filter((n) => corpus.errorFiles.has(n)));
      assert.ok(declared.has(namespace));
      assert.deepEqual(errorFiles(three), [...declared].sort().map((n) => `${n.split('.').join('/')}/error.ts`), `${wanted.name}: only the errors files it uses`);
    });
  });

  after(() => {
    // Leave nothing in the working tree (the scratch folders are under .cache/).
    assert.ok(!existsSync(join(repoRoot, 'generated')), 'no default ./generated folder was created');
  });
});
