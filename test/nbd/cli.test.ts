// virtual-media-serve end to end on the host: the CLI as shipped (a child
// process) against a fake bmcweb (Redfish + the /nbd relay, behaving as
// bmcweb's), with libnbd's nbdcopy/nbdinfo on the relay's unix socket where
// the daemon's nbd-client would be.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { makePki, type Pki } from '../daemon/support/tls-server.js';
import { requireCommand } from '../support/require-command.js';
import { CliProcess } from './support/cli-process.js';
import { FakeBmcweb } from './support/fake-bmcweb.js';
import { mustRun } from './support/run.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PASSWORD = 'c0rrect horse';

describe('nbd CLI: virtual-media-serve against a fake bmcweb', function () {
  this.timeout(90_000);
  let dir: string;
  let pki: Pki;
  let bmc: FakeBmcweb;
  let nbdcopy: string, nbdinfo: string;
  let cli: CliProcess | undefined;

  before(() => {
    nbdcopy = requireCommand('nbdcopy', 'libnbd-bin');
    nbdinfo = requireCommand('nbdinfo', 'libnbd-bin');
    dir = mkdtempSync(join(tmpdir(), 'nbd-cli-'));
    pki = makePki(dir);
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    bmc = new FakeBmcweb(pki, dir, [{ id: 'Slot_0', endpoint: '/nbd/0' }, { id: 'Slot_1', endpoint: '/nbd/1' }, { id: 'Slot_2' }], { user: 'root', password: PASSWORD });
    await bmc.start();
  });
  afterEach(async () => {
    if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
    cli = undefined;
    await bmc.stop();
  });

  const start = (image: string, extra: string[] = [], env: Record<string, string> = { BMC_PASSWORD: PASSWORD }) =>
    (cli = new CliProcess(['--bmc', bmc.url, '--ca', pki.caFile, ...extra, image], env));

  it('serves a read-only image: nbdcopy through the relay reads the same sha256; the host disconnecting ends the CLI and its session', async () => {
    const image = join(dir, 'ro.img');
    const bytes = randomBytes(6 * 1024 * 1024 + 512);
    writeFileSync(image, bytes);
    start(image, ['--password-file', join(dir, 'password')], {});
    const socket = await bmc.mounted('Slot_0');
    const info = JSON.parse((await mustRun(nbdinfo, ['--json', `nbd+unix:///?socket=${socket}`])).stdout.toString()).exports[0];
    assert.equal(info['export-size'], bytes.length);
    assert.equal(info.is_read_only, true);
    // nbdinfo disconnected: the CLI ended with it (bmcweb then ejects). Serve again for the copy.
    assert.equal(await cli!.exit(), 0, cli!.stderr);
    assert.match(cli!.stderr, /the host ejected the medium/);
    assert.equal(bmc.sessions.size, 0, 'session deleted');
    assert.equal(bmc.deletedSessions.length, 1);
    start(image);
    const again = await bmc.mounted('Slot_0');
    const copy = await mustRun(nbdcopy, [`nbd+unix:///?socket=${again}`, '-']);
    assert.equal(sha256(copy.stdout), sha256(bytes));
    assert.equal(await cli!.exit(), 0, cli!.stderr);
    assert.doesNotMatch(cli!.stderr + cli!.stdout, new RegExp(PASSWORD));
    assert.match(cli!.stderr, /total: served 6\.0 MiB in [\d.]+ s \([\d.]+ \w+\/s\), \d+ reads/);
    assert.deepEqual(bmc.requests.filter((r) => r.startsWith('UPGRADE')), ['UPGRADE /nbd/0', 'UPGRADE /nbd/0']);
  });

  it('--rw: the host writes land in the local file', async () => {
    const image = join(dir, 'rw.img');
    writeFileSync(image, Buffer.alloc(4 * 1024 * 1024));
    const source = join(dir, 'source.img');
    const bytes = randomBytes(4 * 1024 * 1024);
    writeFileSync(source, bytes);
    start(image, ['--rw', '--slot', 'Slot_1', '--quiet']);
    const socket = await bmc.mounted('Slot_1');
    await mustRun(nbdcopy, ['--flush', source, `nbd+unix:///?socket=${socket}`]);
    assert.equal(await cli!.exit(), 0, cli!.stderr);
    assert.equal(sha256(readFileSync(image)), sha256(bytes));
  });

  it('Ctrl-C closes the websocket (the BMC ejects, the socket goes) and deletes the session', async () => {
    const image = join(dir, 'int.img');
    writeFileSync(image, randomBytes(1024 * 1024));
    start(image);
    const socket = await bmc.mounted('Slot_0');
    const unmounted = bmc.unmounted('Slot_0');
    // The daemon attaches its nbd-client as soon as bmcweb listens (bmcweb reads the websocket only from then on).
    const nbdClient = connect(socket);
    nbdClient.on('error', () => undefined);
    nbdClient.resume();
    await new Promise((r) => nbdClient.once('data', r)); // the greeting came through the relay
    assert.equal(bmc.sessions.size, 1);
    cli!.child.kill('SIGINT');
    assert.equal(await cli!.exit(), 0, cli!.stderr);
    await unmounted;
    assert.equal(existsSync(socket), false, 'relay socket removed');
    assert.deepEqual(bmc.wsCloses.map((c) => c.code), [1000]);
    assert.equal(bmc.sessions.size, 0, 'session deleted');
    assert.match(cli!.stderr, /stopping/);
    nbdClient.destroy();
  });

  it('the BMC closing the websocket (an eject on its side) ends the CLI and deletes the session', async () => {
    const image = join(dir, 'bmc.img');
    writeFileSync(image, randomBytes(1024 * 1024));
    start(image);
    const socket = await bmc.mounted('Slot_0');
    const nbdClient = connect(socket);
    nbdClient.on('error', () => undefined);
    nbdClient.resume();
    await new Promise((r) => nbdClient.once('data', r));
    bmc.closeSlot('Slot_0', 'ejected');
    assert.equal(await cli!.exit(), 0, cli!.stderr);
    assert.match(cli!.stderr, /the BMC closed the websocket \(websocket close 1000\)/);
    assert.equal(bmc.sessions.size, 0);
    nbdClient.destroy();
  });

  it('--list shows the proxy-mode slots only; bad passwords, unverifiable certificates and --password on argv are refused clearly', async () => {
    const list = new CliProcess(['--bmc', bmc.url, '--ca', pki.caFile, '--list'], { BMC_PASSWORD: PASSWORD });
    assert.equal(await list.exit(), 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 3)), [['Slot_0', '/nbd/0', 'free'], ['Slot_1', '/nbd/1', 'free']]);
    const image = join(dir, 'x.img');
    writeFileSync(image, Buffer.alloc(4096));
    const [wrong, untrusted, argv] = [
      new CliProcess(['--bmc', bmc.url, '--ca', pki.caFile, image], { BMC_PASSWORD: 'nope' }),
      new CliProcess(['--bmc', bmc.url, image], { BMC_PASSWORD: PASSWORD }),
      new CliProcess(['--bmc', bmc.url, '--password', PASSWORD, image]),
    ];
    assert.equal(await wrong.exit(), 1);
    assert.match(wrong.stderr, /Sessions: 401/);
    assert.doesNotMatch(wrong.stderr, /nope/);
    assert.equal(await untrusted.exit(), 1);
    assert.match(untrusted.stderr, /self-signed certificate|unable to verify|certificate/i);
    assert.equal(await argv.exit(), 2);
    assert.match(argv.stderr, /--password is refused/);
    assert.doesNotMatch(argv.stderr, new RegExp(PASSWORD));
    assert.equal(bmc.sessions.size, 0, 'no session left behind');
  });
});
