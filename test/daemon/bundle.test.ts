// The production bundle as the layer installs it: one .mjs file and, beside
// it, node_modules/openbmc-dbus-unix-fd with its built addon. It must
// start, serve the bus, and receive a unix fd (bmcweb's sbh Mount); without
// the addon it must refuse to start, saying so.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { bundleDaemon, type BundleResult } from '../../daemon/build/bundle.js';
import { daemonEnvironment, fakeConfig, SERVICE, spawnDaemon } from './support/daemon-process.js';
import { Harness, ROOT } from './support/harness.js';
import { diskImage } from './support/images.js';
import { secret, secretPipe } from './support/secret-pipe.js';
import { makePki, startImageServer } from './support/tls-server.js';

// What the bundle needs beside it (what the layer installs): the addon's package.json and the addon.
const RUNTIME_FILES = ['openbmc-dbus-unix-fd/package.json', 'openbmc-dbus-unix-fd/build/Release/unix_fd.node'];

describe('daemon: production bundle', function () {
  this.timeout(120_000);
  let h: Harness;
  let app: string;
  let built: BundleResult;
  before(async () => {
    h = await Harness.create();
    app = join(h.kernel.root, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    built = await bundleDaemon(join(h.kernel.root, 'app/virtual-mediad.mjs').replace(process.cwd() + '/', ''));
    assert.ok(built.bytes > 50_000 && built.bytes < 1_500_000, `bundle size ${built.bytes}`);
    for (const f of RUNTIME_FILES) cpSync(join('node_modules', f), join(app, 'node_modules', f), { recursive: true });
  });
  after(async () => {
    await h.stop();
  });

  it('is one self-contained ESM file: no package is imported from outside, only Node built-ins', () => {
    const builtins = new Set(builtinModules);
    const outside = built.externalImports.filter((i) => !(i.startsWith('node:') || builtins.has(i)));
    // usocket and x11: dbus-next's own socket code and its X11 session-bus
    // lookup, branches the runtime never takes (codegen/runtime/transport.ts).
    assert.deepEqual(outside, ['usocket', 'x11']);
  });

  it('without the unix-fd addon beside it, refuses to start naming the addon and the bus', async () => {
    const bare = join(h.kernel.root, 'bare');
    mkdirSync(bare);
    cpSync(built.outfile, join(bare, 'virtual-mediad.mjs'));
    const config = join(h.kernel.root, 'bare-config.json');
    writeFileSync(config, JSON.stringify(fakeConfig(h.kernel, { Slot_2: { Mode: 1, NBDDevice: 'nbd2', UnixSocket: join(h.kernel.run, 'nbd2.sock') } })));
    const daemon = spawnDaemon(['--config', config, '--address', h.bus.address], daemonEnvironment(), join(bare, 'virtual-mediad.mjs'));
    assert.equal(await daemon.exited, 1, daemon.log());
    assert.match(daemon.log(), /openbmc-dbus-unix-fd/);
    assert.ok(daemon.log().includes(h.bus.address), daemon.log());
    assert.doesNotMatch(daemon.log(), /^\s+at /m, 'no stack trace');
  });

  it('starts from the install layout, serves the bus and takes the credentials fd of an sbh Mount', async () => {
    const pki = makePki(h.kernel.root);
    const image = diskImage(join(h.kernel.root, 'disk.img'));
    const server = await startImageServer(pki, { '/disk.img': image }, { user: 'u', password: 'p4ss' });
    try {
      await h.start({ Slot_2: { Mode: 1, NBDDevice: 'nbd2', UnixSocket: join(h.kernel.run, 'nbd2.sock') } }, { TlsCaFile: pki.caFile }, join(app, 'virtual-mediad.mjs'));
      const legacy = h.legacy('Slot_2');
      const completions = await h.watchCompletions(legacy);
      const pipe = secretPipe(h.kernel.root, secret('u', 'p4ss'));
      const reply = await h.client.call({ destination: SERVICE, path: `${ROOT}/Legacy/Slot_2`, interface: 'xyz.openbmc_project.VirtualMedia.Legacy', member: 'Mount', signature: 'sbh', body: [server.url('/disk.img'), false, pipe.fd] });
      pipe.close();
      assert.equal(reply!.body[0], true);
      assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
      assert.deepEqual(readFileSync(join(h.kernel.dev, 'nbd2')), image);
      // Introspection goes through the bundle's xml2js stand-in: busctl must read it.
      const table = execFileSync('busctl', [`--address=${h.bus.address}`, 'introspect', '--no-pager', SERVICE, `${ROOT}/Legacy/Slot_2`], { encoding: 'utf8' });
      assert.match(table, /^\.Mount\s+method\s+sbv\s+b\s/m);
      assert.match(table, /^\.ImageURL\s+property\s+s\s+"https:\/\/127\.0\.0\.1:\d+\/disk\.img"\s+emits-change/m);
      const tree = execFileSync('busctl', [`--address=${h.bus.address}`, 'tree', '--list', SERVICE], { encoding: 'utf8' });
      assert.match(tree, /\/xyz\/openbmc_project\/VirtualMedia\/Legacy\/Slot_2/);
      assert.equal(await h.daemon!.stop('SIGTERM'), 0);
    } finally {
      await server.close();
    }
  });
});
