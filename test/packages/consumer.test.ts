// The packages as another TypeScript project gets them: npm pack, installed
// into a fresh project outside this repository (no access to its
// node_modules; from npm's cache, offline), the installed pdi-tsgen run next
// to the project's own files, the result compiled under two strict
// configurations with skipLibCheck off, and the compiled JavaScript run with
// plain node against xyz.openbmc_project.State.Host served by python3-dbus
// the way sdbus++ servers serve it (test/packages/host-service.py).
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { buildPackages, PACKAGES } from '../../scripts/packages/build.js';

const PACKAGE_DIRS: Record<string, string> = Object.fromEntries(PACKAGES.map((p) => [p.name, p.dir]));
import { corpusRoot, repoRoot, requireCorpus } from '../codegen/corpus/corpus-helpers.js';
import { startPrivateBus, type PrivateBus } from '../support/private-bus.js';
import { requireCommand } from '../support/require-command.js';

const HOST_YAML = join(corpusRoot, 'xyz', 'openbmc_project', 'State', 'Host.interface.yaml');

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * package.json and package-lock.json of the consumer project: our tarballs,
 * and `extra` packages, with every registry package pinned to the entry in
 * this repository's lock (same version, tarball URL and integrity), so that
 * `npm ci --offline` installs from npm's cache without asking the registry.
 * The fd-passing addon comes as what it is, the runtime's optional
 * dependency (pinned to its tarball, built by its install script); dbus-next's
 * optional usocket is left out (the runtime never uses it).
 */
function consumerLock(tarballs: string[], extra: string[]): { packageJson: object; lock: object } {
  const ours = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, LockEntry> = {};
  const dependencies: Record<string, string> = {};
  const pending: [from: string, name: string][] = [];
  type Manifest = { name: string; version: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; bin?: Record<string, string>; scripts?: Record<string, string>; engines?: object; os?: string[]; license?: string };
  const manifests = tarballs.map((t) => ({ t, manifest: JSON.parse(readFileSync(join(repoRoot, PACKAGE_DIRS[t.replace(/^.*\//, '').replace(/-\d+\.\d+\.\d+\.tgz$/, '')]!, 'package.json'), 'utf8')) as Manifest }));
  const optionalOfOurs = new Set(manifests.flatMap(({ manifest }) => Object.keys(manifest.optionalDependencies ?? {})));
  for (const { t, manifest } of manifests) {
    const { name, version, bin, scripts, engines, os, license } = manifest;
    if (optionalOfOurs.has(name)) {
      packages[`node_modules/${name}`] = { version, resolved: `file:${t}`, optional: true, license, ...(scripts?.install ? { hasInstallScript: true } : {}), ...(engines ? { engines } : {}), ...(os ? { os } : {}) };
      continue;
    }
    dependencies[name] = `file:${t}`;
    packages[`node_modules/${name}`] = { version, resolved: `file:${t}`, dependencies: manifest.dependencies ?? {}, ...(manifest.optionalDependencies ? { optionalDependencies: manifest.optionalDependencies } : {}), ...(bin ? { bin } : {}) };
    for (const d of Object.keys(manifest.dependencies ?? {})) pending.push(['', d]);
  }
  for (const name of extra) {
    dependencies[name] = ours.packages[`node_modules/${name}`]!.version!;
    pending.push(['', name]);
  }
  while (pending.length) {
    const [from, name] = pending.pop()!;
    if (Object.keys(dependencies).includes(name) && dependencies[name]!.startsWith('file:')) continue;
    // Node's resolution: nested below the dependent first, then hoisted.
    let at = `node_modules/${name}`;
    for (let dir = from; dir; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
      if (ours.packages[`${dir}/node_modules/${name}`]) {
        at = `${dir}/node_modules/${name}`;
        break;
      }
    }
    const entry = ours.packages[at];
    if (!entry) throw new Error(`${name} (needed by ${from || 'the consumer'}) is not in package-lock.json`);
    if (packages[at]) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, optionalDependencies, ...kept } = entry;
    // Optional dependencies that npm ci installed here (typescript's native compiler for this
    // platform); not usocket (fd passing, a native addon this test does not build).
    const optional = Object.keys(optionalDependencies ?? {}).filter((d) => d !== 'usocket' && ours.packages[`node_modules/${d}`]);
    packages[at] = optional.length ? { ...kept, optionalDependencies: Object.fromEntries(optional.map((d) => [d, optionalDependencies![d]!])) } : kept;
    for (const d of [...Object.keys(entry.dependencies ?? {}), ...optional]) pending.push([at, d]);
  }
  // npm 11 runs a dependency's install script when the project allows it.
  const packageJson = { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies, allowScripts: { 'openbmc-dbus-unix-fd': true } };
  return { packageJson, lock: { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'consumer', version: '1.0.0', dependencies }, ...packages } } };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with an argument array (no shell), in `cwd`, with a PATH that has no trace of this repository. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const write = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};

/** What the consumer writes: a client of State.Host, and the VirtualMedia client package used as a type. */
const MAIN_TS = `import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as rt from 'openbmc-dbus-runtime';
import { Connection } from 'openbmc-dbus-runtime';
import { HostClient } from './xyz/openbmc_project/State/Host/client.js';
import { BMCNotReady } from './xyz/openbmc_project/State/Host/error.js';
import * as xyz from './xyz/index.js';
import { LegacyClient, SERVICE } from 'openbmc-virtual-media-client';
import type { HostReceivedProperties } from './xyz/openbmc_project/State/Host/common.js';

const address = process.argv[2]!;
const connection = await Connection.open({ address, callTimeoutMs: 10_000 });
const host = new HostClient(connection, 'xyz.openbmc_project.State.Host', '/xyz/openbmc_project/state/host0');
const changes: Partial<HostReceivedProperties>[] = [];
const waitFor = async (ok: () => boolean) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error('no PropertiesChanged in time');
};
const show = (v: unknown) => (v instanceof rt.UnknownEnumValue ? { unknown: v.wire } : v instanceof Set ? [...v] : v);

const all = await host.getAll();
const initial = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, show(v)]));
const subscription = await host.onPropertiesChanged((changed) => changes.push(changed));

await host.set('RequestedHostTransition', 'On');
await waitFor(() => changes.some((c) => c.CurrentHostState === 'Running'));
const state = show(await host.get('CurrentHostState'));

let error: unknown = 'no error';
try {
  await host.set('RequestedHostTransition', 'ForceWarmReboot');
} catch (e) {
  error = { name: (e as rt.DBusError).type, isClass: e instanceof BMCNotReady, realInstance: Object.getPrototypeOf(e) === BMCNotReady.prototype };
}

const before = changes.length;
await connection.call({ destination: 'xyz.openbmc_project.State.Host', path: '/xyz/openbmc_project/state/host0', interface: 'net.example.HostTest', member: 'EmitNewer' });
await waitFor(() => changes.length > before);
const newer = changes[changes.length - 1]!;
const newerChange = { CurrentHostState: show(newer.CurrentHostState), RestartCause: newer.RestartCause };
const afterNewer = show((await host.getAll()).CurrentHostState);
const namespaces = xyz.openbmc_project.State.Host.interfaceName;
const virtualMedia = new LegacyClient(connection, SERVICE, '/xyz/openbmc_project/VirtualMedia/Legacy/0').path;

// An fd each way: ours is read by the service, its answer (a pipe) by us.
writeFileSync('fd-payload.txt', 'passed as an fd');
const given = openSync('fd-payload.txt', 'r');
const reply = await connection.call({ destination: 'xyz.openbmc_project.State.Host', path: '/xyz/openbmc_project/state/host0', interface: 'net.example.HostTest', member: 'Reverse', signature: 'h', body: [given], replySignature: 'h' });
closeSync(given);
const answer = reply!.body[0] as number;
const fds = { unavailable: connection.unixFdUnavailable ?? null, answer: readFileSync(answer, 'utf8') };
closeSync(answer);

await subscription.unsubscribe();
await connection.close();
console.log(JSON.stringify({ initial, state, error, newer: newerChange, afterNewer, namespaces, virtualMedia, fds }));
`;

/** The same service without the fd-passing addon: what a call needing fds, and a connection requiring them, say. */
const NO_FDS_TS = `import { Connection, DBusError } from 'openbmc-dbus-runtime';

const address = process.argv[2]!;
const connection = await Connection.open({ address, callTimeoutMs: 10_000 });
const unavailable = connection.unixFdUnavailable;
const failure = (e: unknown) => ({ name: e instanceof DBusError ? e.type : 'not a DBusError', text: (e as Error).message });
let call: unknown = 'resolved';
await connection
  .call({ destination: 'xyz.openbmc_project.State.Host', path: '/xyz/openbmc_project/state/host0', interface: 'net.example.HostTest', member: 'Reverse', signature: 'h', body: [0], replySignature: 'h' })
  .catch((e: unknown) => (call = failure(e)));
// Calls without fds still work on that connection.
const reply = await connection.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetId' });
await connection.close();
let required: unknown = 'opened';
await Connection.open({ address, negotiateUnixFd: true }).then((c) => c.close(), (e: unknown) => (required = (e as Error).message));
console.log(JSON.stringify({ unavailable, call, otherCalls: typeof reply!.body[0], required }));
`;

/** The server example of docs/typescript-packages.md, compiled with the rest (not run). */
const SERVER_TS = `import { Connection, ObjectServer } from 'openbmc-dbus-runtime';
import { HostServer } from './xyz/openbmc_project/State/Host/server.js';
import type { HostProperties } from './xyz/openbmc_project/State/Host/common.js';
import { BMCNotReady } from './xyz/openbmc_project/State/Host/error.js';

class Host extends HostServer {
  override onPropertySet<K extends keyof HostProperties & string>(name: K, value: HostProperties[K]): void {
    if (name === 'RequestedHostTransition' && value === 'ForceWarmReboot') throw new BMCNotReady();
  }
}
export async function serve(): Promise<void> {
  const connection = await Connection.open();
  const objects = new ObjectServer(connection);
  objects.addManager('/xyz/openbmc_project/state');
  objects.add('/xyz/openbmc_project/state/host0', new Host({ initial: { CurrentHostState: 'Off' } }));
  await connection.requestName('xyz.openbmc_project.State.Host');
}
`;

describe('the npm packages in a fresh TypeScript project', function () {
  this.timeout(600_000);
  let project: string;
  let bus: PrivateBus | undefined;
  let service: ChildProcess | undefined;
  let tarballs: string[];
  /** npm ci's output, for a failing check of what it built. */
  let installLog = '';
  const userFiles: Record<string, string> = {
    'src/index.ts': "export { HostClient } from './xyz/openbmc_project/State/Host/client.js';\n",
    'src/xyz/README.md': '# generated D-Bus bindings live here, next to our notes\n',
    'src/xyz/openbmc_project/State/Host/notes.ts': 'export const note = "ours";\n',
    'docs/README.md': '# our docs\n',
  };

  before(async function () {
    requireCorpus();
    requireCommand('python3', 'python3');
    project = mkdtempSync(join(tmpdir(), 'pdi-consumer-'));
    tarballs = buildPackages(join(project, 'tarballs'));
    for (const [p, text] of Object.entries(userFiles)) write(join(project, p), text);
    // Offline, from npm's cache (filled by `npm ci` in this repository), no install scripts: a
    // lock file made from ours pins what the packages need to the versions npm ci fetched.
    const { packageJson, lock } = consumerLock(tarballs.map((t) => relative(project, t)), ['typescript', '@types/node']);
    write(join(project, 'package.json'), JSON.stringify(packageJson, null, 2));
    write(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
    const install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], project);
    installLog = install.stdout + install.stderr;
    assert.equal(install.code, 0, `npm ci (offline, from the npm cache; run npm ci in the repository first) failed:\n${install.stderr}`);
  });

  after(async () => {
    service?.stdin?.end();
    if (service && service.exitCode === null) await new Promise((r) => service!.once('exit', r));
    await bus?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('each package carries built JavaScript and declarations, and its exports, types and bin point at files it has', () => {
    for (const dir of ['openbmc-dbus-runtime', 'openbmc-dbus-unix-fd', 'pdi-tsgen', 'openbmc-virtual-media-client']) {
      const root = join(project, 'node_modules', dir);
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      const targets = [manifest.types, ...Object.values(manifest.bin ?? {}), ...Object.values(manifest.exports ?? {}).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e as object)))].filter(Boolean) as string[];
      for (const t of targets) assert.ok(existsSync(join(root, t)), `${dir}: ${t} is in the package`);
      assert.equal(readFileSync(join(root, 'LICENSE'), 'utf8'), readFileSync(join(repoRoot, 'LICENSE'), 'utf8'), `${dir}: the license text`);
      assert.ok(existsSync(join(root, 'README.md')), `${dir}: a README`);
      assert.ok(!existsSync(join(root, 'src')) || dir !== 'pdi-tsgen', 'pdi-tsgen ships dist, not sources');
    }
    // One version for the three (the repository's), and the client on exactly that runtime.
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    for (const p of PACKAGES) assert.equal(JSON.parse(readFileSync(join(repoRoot, p.dir, 'package.json'), 'utf8')).version, version, `${p.dir}/package.json version`);
    assert.equal(JSON.parse(readFileSync(join(repoRoot, 'client', 'package.json'), 'utf8')).dependencies['openbmc-dbus-runtime'], version);
    const deps = (name: string) => Object.keys(JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')).dependencies ?? {});
    assert.deepEqual(deps('openbmc-dbus-runtime'), ['dbus-next']);
    assert.deepEqual(deps('openbmc-virtual-media-client'), ['openbmc-dbus-runtime'], 'the client has no generator dependencies and no runtime copy');
    assert.ok(deps('pdi-tsgen').includes('ts-morph') && deps('pdi-tsgen').includes('yaml'), 'the generator brings what it needs');
    assert.ok(!existsSync(join(project, 'node_modules', 'openbmc-virtual-media-client', 'dist', 'codegen')), 'no copy of the runtime inside the client');
  });

  it('npm install builds the fd-passing addon from the C sources in its tarball, as an optional dependency of the runtime', () => {
    const addon = join(project, 'node_modules', 'openbmc-dbus-unix-fd');
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'openbmc-dbus-runtime', 'package.json'), 'utf8'));
    assert.deepEqual(manifest.optionalDependencies, { 'openbmc-dbus-unix-fd': manifest.version });
    const shipped = execFileSync('tar', ['tzf', tarballs.find((t) => t.includes('openbmc-dbus-unix-fd'))!], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(shipped, ['package/LICENSE', 'package/README.md', 'package/binding.gyp', 'package/package.json', 'package/src/unix_fd.c'], 'sources only, no host build');
    assert.ok(existsSync(join(addon, 'build', 'Release', 'unix_fd.node')), `the addon was built at install (node-gyp needs make, gcc, python3 and the Node headers; offline, those of the Node installation); npm ci said:\n${installLog}`);
  });

  it('the installed pdi-tsgen generates State.Host next to the project\'s own files, which survive', async () => {
    const version = await run(join(project, 'node_modules', '.bin', 'pdi-tsgen'), ['--version'], project);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^pdi-tsgen \d+\.\d+\.\d+\n$/);
    for (const prune of [[], ['--prune']]) {
      const r = await run(join(project, 'node_modules', '.bin', 'pdi-tsgen'), ['generate', ...prune, 'xyz.openbmc_project.State.Host', '--root', corpusRoot, '--out', 'src', '--docs', 'docs'], project);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const [p, text] of Object.entries(userFiles)) assert.equal(readFileSync(join(project, p), 'utf8'), text, `${p} survives`);
    assert.match(readFileSync(join(project, 'src/xyz/openbmc_project/State/Host/client.ts'), 'utf8'), /from 'openbmc-dbus-runtime'/);
    assert.ok(existsSync(join(project, 'src/xyz/openbmc_project/State/Host/error.ts')), 'the errors State.Host declares');
    assert.ok(!existsSync(join(project, 'src/xyz/openbmc_project/Dump')), 'no errors files it does not use');
    write(join(project, 'src/main.ts'), MAIN_TS);
    write(join(project, 'src/server.ts'), SERVER_TS);
    write(join(project, 'src/no-fds.ts'), NO_FDS_TS);
  });

  const configs = {
    nodenext: { module: 'nodenext', moduleResolution: 'nodenext', rootDir: 'src', outDir: 'dist' },
    'bundler + exactOptionalPropertyTypes': {
      module: 'preserve',
      moduleResolution: 'bundler',
      exactOptionalPropertyTypes: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
      noPropertyAccessFromIndexSignature: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      noEmit: true,
    },
  };
  for (const [name, options] of Object.entries(configs)) {
    it(`compiles (a client, and the guide's server) under ${name}, strict, skipLibCheck false`, async () => {
      const tsconfig = `tsconfig.${name.split(' ')[0]}.json`;
      write(join(project, tsconfig), JSON.stringify({ compilerOptions: { target: 'es2022', strict: true, skipLibCheck: false, types: ['node'], ...options }, include: ['src'] }, null, 2));
      const r = await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], project);
      assert.equal(r.code, 0, `tsc -p ${tsconfig}:\n${r.stdout}${r.stderr}`);
    });
  }

  it('the compiled JavaScript runs with plain node against python3-dbus serving State.Host as sdbus++ does', async () => {
    assert.ok(existsSync(join(project, 'dist/main.js')), 'compiled by the nodenext step');
    bus = await startPrivateBus();
    service = spawn('/usr/bin/python3', [join(repoRoot, 'test/packages/host-service.py'), bus.address, HOST_YAML], { stdio: ['pipe', 'pipe', 'pipe'] });
    let serviceErr = '';
    service.stderr!.on('data', (d: Buffer) => (serviceErr += d.toString()));
    const ready = await new Promise<string>((resolve) => {
      createInterface({ input: service!.stdout! }).once('line', resolve);
      service!.once('exit', () => resolve(`exited: ${serviceErr}`));
    });
    assert.equal(ready, 'ready', `host-service.py did not start (needs python3-dbus python3-gi python3-yaml): ${ready}`);

    const r = await run(process.execPath, ['dist/main.js', bus.address], project);
    assert.equal(r.code, 0, `node dist/main.js:\n${r.stderr}\nservice: ${serviceErr}`);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(result.initial, { RequestedHostTransition: 'Off', AllowedHostTransitions: ['Off', 'On'], CurrentHostState: 'Off', RestartCause: 'Unknown' }, 'enums decoded');
    assert.equal(result.state, 'Running', 'Set went through and the change was announced typed');
    assert.deepEqual(result.error, { name: 'xyz.openbmc_project.State.Host.Error.BMCNotReady', isClass: true, realInstance: true });
    assert.deepEqual(result.newer, { CurrentHostState: { unknown: 'xyz.openbmc_project.State.Host.HostState.Hibernating' }, RestartCause: 'PowerButton' });
    assert.deepEqual(result.afterNewer, { unknown: 'xyz.openbmc_project.State.Host.HostState.Hibernating' });
    assert.equal(result.namespaces, 'xyz.openbmc_project.State.Host');
    assert.equal(result.virtualMedia, '/xyz/openbmc_project/VirtualMedia/Legacy/0');
    assert.deepEqual(result.fds, { unavailable: null, answer: 'df na sa dessap' }, 'an fd passed each way with python3-dbus');
  });

  for (const [variant, remove, why] of [
    ['installed without its build (--ignore-scripts)', 'openbmc-dbus-unix-fd/build', /is installed \(.*openbmc-dbus-unix-fd\) but was not built: run `npm rebuild openbmc-dbus-unix-fd`/],
    ['not installed (its build failed, or --omit=optional)', 'openbmc-dbus-unix-fd', /it is not installed \(npm leaves this optional dependency of openbmc-dbus-runtime out when its build fails/],
  ] as const) {
    it(`without the addon, ${variant}: connections open without fds, a call needing them fails at once saying why`, async () => {
      assert.ok(service && service.exitCode === null, 'host-service.py from the test before is running');
      rmSync(join(project, 'node_modules', remove), { recursive: true, force: true });
      const r = await run(process.execPath, ['dist/no-fds.js', bus!.address], project);
      assert.equal(r.code, 0, `node dist/no-fds.js:\n${r.stderr}`);
      const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.match(result.unavailable, /^unix fd passing is unavailable: the native addon openbmc-dbus-unix-fd did not load: /);
      assert.match(result.unavailable, why);
      assert.equal(result.call.name, 'org.freedesktop.DBus.Error.NotSupported', 'not a timeout');
      assert.match(result.call.text, /^net\.example\.HostTest\.Reverse on xyz\.openbmc_project\.State\.Host \/xyz\/openbmc_project\/state\/host0: its arguments hold unix fds, which this connection cannot pass: unix fd passing is unavailable/);
      assert.equal(result.otherCalls, 'string', 'calls without fds still work');
      assert.ok(result.required.startsWith(`cannot pass unix fds on the D-Bus connection to ${bus!.address}: unix fd passing is unavailable: the native addon openbmc-dbus-unix-fd did not load`), result.required);
      assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, 'no stack trace');
    });
  }
});
