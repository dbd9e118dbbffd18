// Legacy HTTPS with the real nbdkit curl plugin against a local TLS server:
// arguments, TLS verification against the configured CA, credentials that
// never appear in nbdkit's argv or environment, and the served bytes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument } from '../../bindings/xyz/openbmc_project/Common/error.js';
import { Harness, ROOT } from './support/harness.js';
import { diskImage } from './support/images.js';
import { SERVICE } from './support/daemon-process.js';
import { secret, secretPipe } from './support/secret-pipe.js';
import { makePki, startImageServer, type ImageServer, type Pki } from './support/tls-server.js';
import { silentLogger } from '../../codegen/runtime/index.js';
import { probeNbdkit } from '../../daemon/src/seams/nbdkit-probe.js';

const PASSWORD = 'pa55-Секрет-zebra';

describe('daemon: legacy HTTPS (real nbdkit curl plugin)', function () {
  this.timeout(60_000);
  let h: Harness;
  let pki: Pki;
  let server: ImageServer;
  let image: Buffer;
  beforeEach(async () => {
    h = await Harness.create();
    pki = makePki(h.kernel.root);
    image = diskImage(join(h.kernel.root, 'disk.img'));
    server = await startImageServer(pki, { '/images/disk.img': image }, { user: 'alice', password: PASSWORD });
  });
  afterEach(async () => {
    await server.close();
    await h.stop();
  });

  const legacyConfig = (h: Harness) => ({
    Slot_2: { Mode: 1 as const, NBDDevice: 'nbd2', UnixSocket: join(h.kernel.run, 'nbd2.sock'), Timeout: 5 },
  });
  const path = `${ROOT}/Legacy/Slot_2`;

  it('serves the image over TLS with credentials from the fd (bmcweb sbh form), no secret in argv, environ or logs', async () => {
    await h.start(legacyConfig(h), { TlsCaFile: pki.caFile });
    const legacy = h.legacy('Slot_2');
    const completions = await h.watchCompletions(legacy);
    const pipe = secretPipe(h.kernel.root, secret('alice', PASSWORD));
    const url = server.url('/images/disk.img');
    // bmcweb's call: signature sbh.
    const reply = await h.client.call({ destination: SERVICE, path, interface: 'xyz.openbmc_project.VirtualMedia.Legacy', member: 'Mount', signature: 'sbh', body: [url, false, pipe.fd] });
    pipe.close();
    assert.equal(reply!.body[0], true);
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    assert.deepEqual(readFileSync(join(h.kernel.dev, 'nbd2')), image, 'nbd-client read the image through nbdkit');
    assert.ok(server.requests.some((r) => r.authorized && r.range), 'authenticated range requests reached the server');

    const nbdkitPid = Number(readFileSync(join(h.kernel.run, 'Slot_2.nbdkit.pid'), 'utf8'));
    const argv = readFileSync(`/proc/${nbdkitPid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    assert.deepEqual(argv.slice(1), [
      '--foreground', '--exit-with-parent', '--unix', join(h.kernel.run, 'nbd2.sock'), '--pidfile', join(h.kernel.run, 'Slot_2.nbdkit.pid'), '--readonly',
      // No filter by default; connections= only where the installed nbdkit has it (not Debian's 1.32).
      'curl', `url=${url}`, 'protocols=https', 'timeout=30', ...((await probeNbdkit('nbdkit', silentLogger)).curlConnections ? ['connections=4'] : []),
      `cainfo=${pki.caFile}`, 'user=alice', 'password=-3',
    ]);
    // Large kernel requests, set before the gadget opened the device (the fake kernel starts at the nbd driver's 128).
    const queue = join(h.kernel.root, 'sys', 'block', 'nbd2', 'queue');
    assert.equal(readFileSync(join(queue, 'read_ahead_kb'), 'utf8').trim(), '8192');
    assert.equal(readFileSync(join(queue, 'max_sectors_kb'), 'utf8').trim(), '8192');
    const environ = readFileSync(`/proc/${nbdkitPid}/environ`);
    for (const where of [argv.join(' '), environ.toString('utf8'), readFileSync(`/proc/${h.daemon!.pid}/cmdline`, 'utf8'), readFileSync(`/proc/${h.daemon!.pid}/environ`, 'utf8'), h.daemon!.log()]) {
      assert.ok(!where.includes(PASSWORD), 'the password leaked');
      assert.ok(!where.includes('pa55'), 'part of the password leaked');
    }
    assert.equal(await h.mountPoint(path).get('ImageURL'), url);
    assert.equal(await h.mountPoint(path).get('WriteProtected'), true);
    assert.equal(await h.process(path).get('Active'), true);

    assert.equal(await legacy.Unmount(), true);
    assert.equal(await h.nextCompletion(completions, 2), 0);
    assert.equal(await h.mountPoint(path).get('ImageURL'), '');
    assert.throws(() => process.kill(nbdkitPid, 0), /ESRCH/, 'nbdkit stopped');
  });

  it('nbdkit dying while the medium is inserted sets ExitCode -9 (SIGKILL), ejects and reports ECONNREFUSED', async () => {
    await h.start(legacyConfig(h), { TlsCaFile: pki.caFile });
    const legacy = h.legacy('Slot_2');
    const completions = await h.watchCompletions(legacy);
    const pipe = secretPipe(h.kernel.root, secret('alice', PASSWORD));
    await legacy.Mount(server.url('/images/disk.img'), false, { type: 'unixfd', value: pipe.fd });
    pipe.close();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
    const changes: Record<string, unknown>[] = [];
    await h.process(path).onPropertiesChanged((changed) => changes.push(changed));
    process.kill(Number(readFileSync(join(h.kernel.run, 'Slot_2.nbdkit.pid'), 'utf8')), 'SIGKILL');
    assert.equal(await h.nextCompletion(completions, 2), 111);
    assert.equal(await h.process(path).get('ExitCode'), -9);
    assert.equal(await h.process(path).get('Active'), false);
    assert.ok(changes.some((c) => c.Active === false), 'PropertiesChanged announced Active=false');
    assert.equal(existsSync(join(h.kernel.run, 'nbd2.sock')), false, 'socket removed');
    assert.equal(existsSync(h.kernel.gadgetDir('Slot_2')), false);
    assert.equal(h.kernel.size('nbd2'), 0);
  });

  it('accepts the YAML form (sbv) with -1 for no credentials; the server refusing makes Completion non-zero', async () => {
    await h.start(legacyConfig(h), { TlsCaFile: pki.caFile });
    const legacy = h.legacy('Slot_2');
    const completions = await h.watchCompletions(legacy);
    assert.equal(await legacy.Mount(server.url('/images/disk.img'), false, { type: 'int32', value: -1 }), true);
    const result = await h.nextCompletion(completions, 1);
    assert.notEqual(result, 0, 'no credentials: the server answers 401');
    assert.equal(await h.process(path).get('Active'), false);
    assert.ok(server.requests.every((r) => !r.authorized));
  });

  it('verifies TLS: a server whose certificate the configured CA did not sign is refused', async () => {
    const otherCa = makePki(h.kernel.root, 'other');
    await h.start(legacyConfig(h), { TlsCaFile: otherCa.caFile });
    const legacy = h.legacy('Slot_2');
    const completions = await h.watchCompletions(legacy);
    const pipe = secretPipe(h.kernel.root, secret('alice', PASSWORD));
    assert.equal(await legacy.Mount(server.url('/images/disk.img'), false, { type: 'unixfd', value: pipe.fd }), true);
    pipe.close();
    assert.notEqual(await h.nextCompletion(completions, 1), 0);
    assert.equal(server.requests.length, 0, 'no HTTP request got past the TLS handshake');
    assert.equal(await h.process(path).get('Active'), false);
  });

  it('refuses http://, URLs with credentials, read-write HTTPS and bad secrets with InvalidArgument', async () => {
    await h.start(legacyConfig(h), { TlsCaFile: pki.caFile });
    const legacy = h.legacy('Slot_2');
    const invalid = (e: unknown) => e instanceof InvalidArgument;
    const none = { type: 'int32' as const, value: -1 };
    await assert.rejects(() => legacy.Mount('http://127.0.0.1/disk.img', false, none), invalid);
    await assert.rejects(() => legacy.Mount('https://alice:pw@127.0.0.1/disk.img', false, none), invalid);
    await assert.rejects(() => legacy.Mount(server.url('/images/disk.img'), true, none), invalid);
    await assert.rejects(() => legacy.Mount(server.url('/images/disk.img'), false, { type: 'int32', value: 5 }), invalid);
    for (const payload of [Buffer.from('alice\0pw'), Buffer.from('alice\0pw\0extra\0'), Buffer.alloc(2000, 0x41), Buffer.from('\0pw\0'), Buffer.from([0x61, 0xff, 0, 0x62, 0])]) {
      const pipe = secretPipe(h.kernel.root, payload);
      await assert.rejects(() => legacy.Mount(server.url('/images/disk.img'), false, { type: 'unixfd', value: pipe.fd }), invalid, JSON.stringify(payload.toString('latin1')));
      pipe.close();
    }
    // A writer that never closes: the read gives up instead of hanging the daemon.
    const stuck = secretPipe(h.kernel.root, Buffer.from('alice\0'), true);
    await assert.rejects(() => legacy.Mount(server.url('/images/disk.img'), false, { type: 'unixfd', value: stuck.fd }), invalid);
    stuck.close();
    assert.equal(await h.process(path).get('Active'), false);
    assert.ok(!h.daemon!.log().includes('pw'), 'secret fragments stay out of the log');
    // After all the refusals the mount point still works.
    const pipe = secretPipe(h.kernel.root, secret('alice', PASSWORD));
    const completions = await h.watchCompletions(legacy);
    assert.equal(await legacy.Mount(server.url('/images/disk.img'), false, { type: 'unixfd', value: pipe.fd }), true);
    pipe.close();
    assert.equal(await h.nextCompletion(completions, 1), 0, h.daemon!.log());
  });
});
