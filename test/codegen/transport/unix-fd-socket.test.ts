// UnixFdSocket (our addon under it) against a real peer: a python3 unix
// socket server passing fds with SCM_RIGHTS. Order of received fds, who
// closes what, close at every stage, errors; and which connections load
// the addon at all.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Connection } from '../../../codegen/runtime/connection.js';
import { UnixFdSocket } from '../../../codegen/runtime/unix-fd-socket.js';
import { startPrivateBus, type PrivateBus } from '../../support/private-bus.js';
import { requireCommand } from '../../support/require-command.js';

const openFds = () => readdirSync('/proc/self/fd').length;

// One connection on argv[1] (a leading @: an abstract address): sends what
// the rest of argv asks (file paths opened and passed with a
// byte each message), then reports every fd it receives as "got <path>",
// and, when the client closes, how many bytes it read ("closed <n>").
const PEER = String.raw`
import os, socket, sys
path, messages = sys.argv[1], sys.argv[2:]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind("\0" + path[1:] if path.startswith("@") else path)
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()
for m in messages:
    files = [os.open(p, os.O_RDONLY) for p in m.split(",")]
    socket.send_fds(conn, [b"m"], files)
    for f in files: os.close(f)
total = 0
while True:
    data, fds, _, _ = socket.recv_fds(conn, 65536, 16)
    if not data: break
    total += len(data)
    for f in fds:
        print("got", os.readlink("/proc/self/fd/%d" % f), flush=True)
        os.close(f)
print("closed", total, flush=True)
`;

interface Peer {
  path: string;
  lines: string[];
  next(prefix: string): Promise<string>;
  exited: Promise<number | null>;
  process: ChildProcess;
}

async function startPeer(dir: string, messages: string[][], abstract = false): Promise<Peer> {
  requireCommand('python3', 'python3');
  const name = `peer-${Math.random().toString(36).slice(2)}.sock`;
  const shown = abstract ? `@vm-test-${name}` : join(dir, name);
  const child = spawn('python3', ['-c', PEER, shown, ...messages.map((m) => m.join(','))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const path = abstract ? `\0${shown.slice(1)}` : shown;
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  // 'close': exited and its stdout pipe closed (fd counts are exact again).
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const next = async (prefix: string) => {
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return lines.splice(i, 1)[0]!;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  await next('listening');
  return { path, lines, next, exited, process: child };
}

function connected(socket: UnixFdSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
}

function closed(socket: UnixFdSocket): Promise<void> {
  return new Promise((resolve) => socket.once('close', resolve));
}

async function readBytes(socket: UnixFdSocket, n: number): Promise<Buffer> {
  for (;;) {
    const got = socket.read(n) as Buffer | null;
    if (got) return got;
    await new Promise((resolve) => socket.once('readable', resolve));
  }
}

describe('UnixFdSocket: unix fd passing against a python3 peer', function () {
  this.timeout(30_000);
  let dir: string;
  const files: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vm-unixfd-'));
    for (const name of ['f0', 'f1', 'f2', 'f3']) {
      writeFileSync(join(dir, name), name);
      files.push(join(dir, name));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('received fds queue in arrival order, takeFds hands them out oldest first, close-on-exec', async () => {
    const peer = await startPeer(dir, [[files[0]!, files[1]!], [files[2]!]]);
    const socket = new UnixFdSocket(peer.path);
    await connected(socket);
    assert.deepEqual(await readBytes(socket, 2), Buffer.from('mm'));
    assert.equal(socket.queuedFds, 3);
    const [first] = socket.takeFds(1);
    const rest = socket.takeFds(5);
    assert.deepEqual([first, ...rest].map((fd) => readlinkSync(`/proc/self/fd/${fd}`)), files.slice(0, 3));
    for (const fd of [first!, ...rest]) {
      const flags = Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
      assert.ok(flags & 0o2000000, `fd ${fd} is O_CLOEXEC: child processes do not inherit it`);
      closeSync(fd);
    }
    assert.deepEqual(socket.takeFds(1), []);
    socket.destroy();
    await peer.exited;
  });

  it('sends fds with the data; the peer gets them', async () => {
    const peer = await startPeer(dir, []);
    const socket = new UnixFdSocket(peer.path);
    await connected(socket);
    const fd = openSync(files[3]!, 'r');
    await new Promise<void>((resolve, reject) => socket.write({ data: Buffer.from('x'), fds: [fd] }, (e) => (e ? reject(e) : resolve())));
    closeSync(fd);
    assert.equal(await peer.next('got'), `got ${files[3]}`);
    socket.end();
    await peer.next('closed');
    await peer.exited;
    socket.destroy();
  });

  it('a write larger than the socket buffer goes out whole once the peer reads, its fds once', async () => {
    const peer = await startPeer(dir, []);
    const socket = new UnixFdSocket(peer.path);
    await connected(socket);
    const fd = openSync(files[2]!, 'r');
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    await new Promise<void>((resolve, reject) => socket.write({ data: big, fds: [fd] }, (e) => (e ? reject(e) : resolve())));
    closeSync(fd);
    await new Promise<void>((resolve) => socket.end(resolve));
    assert.equal(await peer.next('got'), `got ${files[2]}`);
    assert.equal(await peer.next('closed'), `closed ${big.length}`);
    assert.equal(peer.lines.filter((l) => l.startsWith('got')).length, 0, 'the fds went once');
    await peer.exited;
    socket.destroy();
  });

  it('fds received and never taken are closed with the socket', async () => {
    const peer = await startPeer(dir, [[files[0]!, files[1]!, files[2]!]]);
    const socket = new UnixFdSocket(peer.path);
    await connected(socket);
    await readBytes(socket, 1);
    assert.equal(socket.queuedFds, 3);
    const before = openFds();
    const isClosed = closed(socket);
    socket.destroy();
    await isClosed;
    assert.equal(openFds(), before - 4, 'the three queued fds and the socket are closed');
    await peer.exited;
  });

  it('closing before the connect, or right at it, closes everything and never connects later', async () => {
    const baseline = openFds();
    const peer = await startPeer(dir, []);
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      const early = new UnixFdSocket(peer.path);
      let connects = 0;
      early.on('connect', () => connects++);
      const isClosed = closed(early);
      early.destroy();
      await isClosed;
      assert.equal(connects, 0);
    }
    assert.equal(openFds(), before);
    // The peer accepts one connection: this one, dropped as it connects.
    const atConnect = new UnixFdSocket(peer.path);
    atConnect.once('connect', () => atConnect.destroy());
    await closed(atConnect);
    await peer.next('closed');
    await peer.exited;
    // The addon closes a socket's fd in libuv's close phase, a loop turn after 'close'.
    for (let i = 0; i < 50 && openFds() !== baseline; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(openFds(), baseline);
  });

  it('connects to an abstract address (unix:abstract=)', async () => {
    const peer = await startPeer(dir, [[files[1]!]], true);
    const socket = new UnixFdSocket(peer.path);
    await connected(socket);
    await readBytes(socket, 1);
    const [fd] = socket.takeFds(1);
    assert.equal(readlinkSync(`/proc/self/fd/${fd}`), files[1]);
    closeSync(fd!);
    socket.destroy();
    await peer.exited;
  });

  it('a missing socket is an error naming the path and ENOENT', async () => {
    const socket = new UnixFdSocket(join(dir, 'nobody-here.sock'));
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    assert.equal(error.code, 'ENOENT');
    assert.match(error.message, /nobody-here\.sock/);
  });
});

describe('the addon\'s Poller when JavaScript forgets it', function () {
  this.timeout(30_000);

  it('a Poller collected without close() closes its socket; one closed inside its own callback is never called again', async () => {
    // In a node of its own with --expose-gc; the peer is a net server.
    const addonLoader = fileURLToPath(new URL('../../../codegen/runtime/unix-fd-socket.ts', import.meta.url));
    const script = `
      const { loadUnixFdAddon } = await import(${JSON.stringify(addonLoader)});
      const net = require('node:net'), fs = require('node:fs'), os = require('node:os'), path = require('node:path');
      const addon = loadUnixFdAddon();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-poller-'));
      const sock = path.join(dir, 's');
      const peers = [];
      const server = net.createServer((c) => { peers.push(c); c.on('error', () => {}); c.write('x'); }).listen(sock);
      await new Promise((r) => server.once('listening', r));
      const isOpen = (fd) => fs.existsSync('/proc/self/fd/' + fd);
      // 1. forgotten: never started, dropped, collected
      let fd = addon.connect(sock);
      (() => { new addon.Poller(fd, () => {}); })();
      for (let i = 0; i < 5 && isOpen(fd); i++) { gc(); await new Promise((r) => setImmediate(r)); }
      const forgottenClosed = !isOpen(fd);
      // 2. closed from inside its callback, then collected
      fd = addon.connect(sock);
      let calls = 0;
      await new Promise((resolve) => {
        let p = new addon.Poller(fd, () => { calls++; p.close(); p = null; setTimeout(resolve, 50); });
        p.start(1);
      });
      for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setImmediate(r)); }
      const closedInCallback = !isOpen(fd);
      server.close(); for (const c of peers) c.destroy(); fs.rmSync(dir, { recursive: true });
      console.log(JSON.stringify({ forgottenClosed, closedInCallback, calls }));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', '--input-type=commonjs', '-e', `(async () => {${script}})()`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    assert.equal(signal, null, err);
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out), { forgottenClosed: true, closedInCallback: true, calls: 1 });
  });
});

describe('which bus connections load the unix-fd addon', function () {
  this.timeout(60_000);
  let bus: PrivateBus;
  before(async () => {
    bus = await startPrivateBus();
  });
  after(async () => bus?.stop());

  it('negotiateUnixFd: false runs on a plain net.Socket; true on UnixFdSocket, with fd passing agreed', async () => {
    const plain = await Connection.open({ address: bus.address, negotiateUnixFd: false });
    const withFds = await Connection.open({ address: bus.address });
    try {
      const streamOf = (c: Connection) => (c.bus as unknown as { _connection: { stream: unknown } })._connection.stream as { supportsUnixFd?: boolean };
      assert.ok(streamOf(plain) instanceof net.Socket);
      assert.ok(streamOf(withFds) instanceof UnixFdSocket);
      assert.equal(streamOf(withFds).supportsUnixFd, true, 'the bus agreed to pass fds');
    } finally {
      await plain.close();
      await withFds.close();
    }
  });

  it('a process whose connections pass no fds never maps the addon', async () => {
    const runtime = fileURLToPath(new URL('../../../codegen/runtime/connection.ts', import.meta.url));
    const script = `
      const { Connection } = await import(${JSON.stringify(runtime)});
      const maps = () => require('node:fs').readFileSync('/proc/self/maps', 'utf8').includes('unix_fd.node');
      const plain = await Connection.open({ address: ${JSON.stringify(bus.address)}, negotiateUnixFd: false });
      const before = maps();
      await plain.close();
      const withFds = await Connection.open({ address: ${JSON.stringify(bus.address)} });
      const after = maps();
      await withFds.close();
      console.log(JSON.stringify({ before, after }));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=commonjs', '-e', `(async () => {${script}})()`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out), { before: false, after: true });
  });
});
