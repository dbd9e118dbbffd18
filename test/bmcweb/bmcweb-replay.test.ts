// bmcweb's conversation with the daemon, call for call and signature for
// signature (FACTS.md section 1), replayed by python3-dbus (bmcweb.py) against
// the daemon on a private bus with a fake kernel tree. Our own client only
// watches (Completion signals, properties).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Harness, ROOT } from '../daemon/support/harness.js';
import { diskImage } from '../daemon/support/images.js';
import { alive } from '../daemon/support/process-alive.js';
import { eventually } from '../daemon/support/daemon-process.js';
import { makePki, startImageServer, type ImageServer, type Pki } from '../daemon/support/tls-server.js';
import { BmcwebReplay } from './replay.js';

const VM = 'xyz.openbmc_project.VirtualMedia';
const STANDARD = ['org.freedesktop.DBus.Introspectable', 'org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Properties'];

describe('bmcweb replay (python3-dbus): discovery, InsertMedia, EjectMedia', function () {
  this.timeout(120_000);
  let h: Harness;
  let bmcweb: BmcwebReplay;
  let pki: Pki;
  let server: ImageServer;
  let image: Buffer;

  before(async () => {
    h = await Harness.create();
    pki = makePki(h.kernel.root);
    image = diskImage(join(h.kernel.root, 'disk.img'));
    server = await startImageServer(pki, { '/public/disk.img': image });
    await h.start(
      {
        Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock'), Timeout: 3 },
        Slot_2: { Mode: 1, NBDDevice: 'nbd2', UnixSocket: join(h.kernel.run, 'nbd2.sock'), Timeout: 5 },
      },
      { TlsCaFile: pki.caFile },
    );
    bmcweb = await BmcwebReplay.start(h.bus.address);
  });
  after(async () => {
    await bmcweb?.stop();
    await server?.close();
    await h?.stop();
  });

  const legacyPath = `${ROOT}/Legacy/Slot_2`;
  const nbdkitRunning = () => existsSync(join(h.kernel.run, 'Slot_2.nbdkit.pid'));

  it("the mapper's introspection walk from / finds every object, with its interfaces", async () => {
    const tree = await bmcweb.ok<Record<string, string[]>>('walk');
    for (const node of ['/', '/xyz', '/xyz/openbmc_project', `${ROOT}/Legacy`, `${ROOT}/Proxy`]) assert.ok(node in tree, `${node} is not reachable from /`);
    assert.ok(tree[ROOT]!.includes('org.freedesktop.DBus.ObjectManager'), 'the ObjectManager bmcweb calls is at the root');
    assert.deepEqual(tree[legacyPath], [...STANDARD, `${VM}.Legacy`, `${VM}.MountPoint`, `${VM}.Process`, `${VM}.Stats`].sort());
    assert.deepEqual(tree[`${ROOT}/Proxy/Slot_0`], [...STANDARD, `${VM}.MountPoint`, `${VM}.Process`, `${VM}.Proxy`, `${VM}.Stats`].sort());
    assert.deepEqual(Object.keys(await bmcweb.ok('get_object', { path: ROOT })), [VM], 'GetObject(root) names our service');
  });

  it('GetManagedObjects has every property bmcweb reads, with the types its std::get_if expects', async () => {
    const objects = await bmcweb.ok<Record<string, Record<string, Record<string, [string, unknown]>>>>('managed');
    assert.deepEqual(Object.keys(objects).sort(), [legacyPath, `${ROOT}/Proxy/Slot_0`]);
    for (const [path, ifaces] of Object.entries(objects)) {
      const mp = ifaces[`${VM}.MountPoint`]!;
      assert.equal(mp.EndpointId![0], 's', `${path} EndpointId`);
      assert.equal(mp.ImageURL![0], 's', `${path} ImageURL`);
      assert.equal(mp.WriteProtected![0], 'b', `${path} WriteProtected`);
      assert.equal(mp.Socket![0], 's');
      assert.equal(mp.Mode![0], 'y');
      assert.equal(ifaces[`${VM}.Process`]!.Active![0], 'b', `${path} Process.Active must be a bool or bmcweb stops reading the object`);
      assert.equal(ifaces[`${VM}.Process`]!.ExitCode![0], 'i');
      assert.equal(ifaces[`${VM}.Stats`]!.ReadIO![0], 't');
    }
    assert.deepEqual(objects[`${ROOT}/Proxy/Slot_0`]![`${VM}.MountPoint`]!.EndpointId, ['s', '/nbd/0'], 'non-empty EndpointId: bmcweb shows the WebSocketEndpoint');
  });

  it('InsertMedia of a public image: the pipe carries "\\0\\0", the medium goes in without credentials; EjectMedia takes it out', async () => {
    const completions = await h.watchCompletions(h.legacy('Slot_2'));
    const inserted = await bmcweb.request('insert', { id: 'Slot_2', url: server.url('/public/disk.img'), rw: false });
    assert.deepEqual(inserted, { ok: true });
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    const pid = Number(readFileSync(join(h.kernel.run, 'Slot_2.nbdkit.pid'), 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(!argv.some((a) => a.startsWith('user=') || a.startsWith('password=')), 'no credentials passed to nbdkit');
    assert.deepEqual(readFileSync(join(h.kernel.dev, 'nbd2')), image);
    const objects = await bmcweb.ok<Record<string, Record<string, Record<string, [string, unknown]>>>>('managed');
    assert.deepEqual(objects[legacyPath]![`${VM}.Process`]!.Active, ['b', true], 'Redfish Inserted');
    assert.deepEqual(objects[legacyPath]![`${VM}.MountPoint`]!.ImageURL, ['s', server.url('/public/disk.img')]);
    assert.deepEqual(await bmcweb.request('eject', { kind: 'Legacy', id: 'Slot_2' }), { ok: true });
    assert.equal(await h.nextCompletion(completions, 2), 0);
    assert.equal(alive(pid), false, 'nbdkit stopped');
  });

  it('the longest credentials bmcweb accepts (512 + 512 bytes) are taken; "user\\0\\0" is a user without password', async () => {
    const completions = await h.watchCompletions(h.legacy('Slot_2'));
    const user = 'u'.repeat(512);
    assert.deepEqual(await bmcweb.request('insert', { id: 'Slot_2', url: server.url('/public/disk.img'), rw: false, user, password: 'p'.repeat(512) }), { ok: true });
    // The server does not ask for credentials: curl sends them anyway and gets the image.
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    const pid = Number(readFileSync(join(h.kernel.run, 'Slot_2.nbdkit.pid'), 'utf8'));
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`user=${user}`));
    await bmcweb.ok('eject', { kind: 'Legacy', id: 'Slot_2' });
    assert.equal(await h.nextCompletion(completions, 2), 0);

    assert.deepEqual(await bmcweb.request('insert', { id: 'Slot_2', url: server.url('/public/disk.img'), rw: false, user: 'alice', password: '' }), { ok: true });
    assert.equal(await h.nextCompletion(completions, 3), 0, h.daemon!.log());
    await bmcweb.ok('eject', { kind: 'Legacy', id: 'Slot_2' });
    assert.equal(await h.nextCompletion(completions, 4), 0);
  });

  const hex = (s: string | Buffer) => Buffer.from(s).toString('hex');
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['a 513-byte user name', { raw_hex: hex(`${'u'.repeat(513)}\0secret-1\0`) }, /user name is longer than 512 bytes/],
    ['a 513-byte password', { raw_hex: hex(`alice\0${'s'.repeat(513)}\0`) }, /password is longer than 512 bytes/],
    ['more than 1026 bytes', { raw_hex: hex(`${'u'.repeat(600)}\0${'s'.repeat(600)}\0`) }, /longer than 1026 bytes/],
    ['no NUL at all', { raw_hex: hex('alice:secret-1') }, /exactly two NULs/],
    ['a missing final NUL', { raw_hex: hex('alice\0secret-1') }, /exactly two NULs/],
    ['a NUL inside the user name', { raw_hex: hex('ali\0ce\0secret-1\0') }, /exactly two NULs/],
    ['data after the second NUL', { raw_hex: hex('alice\0secret-1\0more') }, /must end with the NUL after the password/],
    ['a password without a user name', { raw_hex: hex('\0secret-1\0') }, /password was given without a user name/],
    ['bytes that are not UTF-8', { raw_hex: hex(Buffer.from([0x61, 0xff, 0, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x2d, 0x31, 0])) }, /not valid UTF-8/],
    ['a pipe whose writer never closes it', { user: 'alice', password: 'secret-1', keep_open: true }, /not sent within 2 s/],
  ];
  for (const [what, args, message] of refused) {
    it(`credentials with ${what}: InvalidArgument naming the problem, nothing started, secret not echoed`, async () => {
      const completions = await h.watchCompletions(h.legacy('Slot_2'));
      const reply = await bmcweb.request('insert', { id: 'Slot_2', url: server.url('/public/disk.img'), rw: false, ...args });
      assert.ok('error' in reply, `accepted: ${JSON.stringify(reply)}`);
      assert.equal(reply.error, 'xyz.openbmc_project.Common.Error.InvalidArgument');
      assert.match(reply.message, message);
      assert.ok(!reply.message.includes('secret-1') && !h.daemon!.log().includes('secret-1'), 'the secret was echoed');
      assert.equal(nbdkitRunning(), false, 'nothing started');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(completions, [], 'no Completion for a refused call');
      assert.deepEqual(await bmcweb.ok('managed').then((o) => (o as Record<string, Record<string, Record<string, unknown>>>)[legacyPath]![`${VM}.Process`]!.Active), ['b', false]);
    });
  }

  it('the YAML form sbv: an int -1 is no credentials; an fd in the variant carries them; another type is InvalidArgument', async () => {
    const completions = await h.watchCompletions(h.legacy('Slot_2'));
    assert.deepEqual(await bmcweb.request('insert_no_fd', { id: 'Slot_2', url: server.url('/public/disk.img'), rw: false }), { ok: true });
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    await bmcweb.ok('eject', { kind: 'Legacy', id: 'Slot_2' });
    assert.equal(await h.nextCompletion(completions, 2), 0);
    assert.deepEqual(await bmcweb.request('insert', { id: 'Slot_2', url: server.url('/public/disk.img'), rw: false, signature: 'sbv' }), { ok: true });
    assert.equal(await h.nextCompletion(completions, 3), 0, h.daemon!.log());
    await bmcweb.ok('eject', { kind: 'Legacy', id: 'Slot_2' });
    assert.equal(await h.nextCompletion(completions, 4), 0);
    const wrong = await bmcweb.request('flood', { kind: 'mount-variant-string', count: 1 });
    assert.deepEqual(wrong, { ok: { 'org.freedesktop.DBus.Error.InvalidArgs': 1 } });
  });

  it('fds on every kind of message are all closed: /proc/<daemon>/fd is back at its start count', async () => {
    const fds = () => readdirSync(`/proc/${h.daemon!.pid}/fd`).length;
    await bmcweb.ok('flood', { kind: 'introspect', count: 2 }); // warm-up: first-use allocations
    const before = fds();
    const kinds = ['unknown-method', 'wrong-signature', 'get', 'set', 'getall', 'introspect', 'ping', 'unknown-path', 'signal', 'mount-bad-url', 'mount-variant-bad-url'];
    const seen: Record<string, unknown> = {};
    for (const kind of kinds) seen[kind] = await bmcweb.ok('flood', { kind, count: 20 });
    // Every call was answered (a signal gets no answer); none by a stack trace.
    for (const [kind, replies] of Object.entries(seen)) {
      assert.ok(!Object.keys(replies as object).some((n) => n.includes('dbus_next')), `${kind}: ${JSON.stringify(replies)}`);
    }
    assert.deepEqual(seen['mount-bad-url'], { 'xyz.openbmc_project.Common.Error.InvalidArgument': 20 });
    await bmcweb.ok('walk'); // a round trip after the signals: they have been dispatched
    // Polled briefly: the daemon may hold an unrelated descriptor for a moment.
    await eventually(`fds back at ${before} after ${kinds.length * 20} messages with an fd each (now ${fds()}): ${JSON.stringify(seen)}`, () => fds() <= before, 5000);
  });
});
