// The production bundle as the layer installs it: one .mjs file and, beside
// it, node_modules/usocket with its built addon. It must start, serve the
// bus, and receive a unix fd (bmcweb's sbh Mount).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { bundleDaemon, type BundleResult } from '../../daemon/build/bundle.js';
import { SERVICE } from './support/daemon-process.js';
import { Harness, ROOT } from './support/harness.js';
import { diskImage } from './support/images.js';
import { secret, secretPipe } from './support/secret-pipe.js';
import { makePki, startImageServer } from './support/tls-server.js';

// The least the bundle needs beside it: usocket's package.json and addon (the layer installs more).
const RUNTIME_FILES = ['usocket/package.json', 'usocket/build/Release/uwrap.node'];

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
    // x11: dbus-next's optional X11 session-bus lookup, in a branch a BMC never takes.
    assert.deepEqual(outside, ['x11']);
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
