// The client side of fd ownership: fds in a reply to a waiting call are the
// caller's; fds in a reply that comes after the call timed out, and in
// signals, are closed by the runtime once dispatched. The peer is a
// hand-written dbus-next service (not the generated server code), on the
// runtime's fd-passing transport (dbus-next's own has none without usocket).
import { strict as assert } from 'node:assert';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbusNext from 'dbus-next';
import * as rt from '../../../codegen/runtime/index.js';
import { closeBus, openBus } from '../../../codegen/runtime/transport.js';
import { startPrivateBus, type PrivateBus } from '../../support/private-bus.js';

const PEER = 'net.example.FdPeer';
const PATH = '/net/example/FdPeer';
const IFACE = 'net.example.FdPeer';

describe('round trip: fds received by a client', function () {
  this.timeout(20_000);
  let bus: PrivateBus;
  let peer: dbusNext.MessageBus;
  let client: rt.Connection;
  let dir: string;
  let file: string;
  const openFds = () => readdirSync('/proc/self/fd').length;

  before(async () => {
    bus = await startPrivateBus();
    dir = mkdtempSync(join(tmpdir(), 'vm-fdc-'));
    file = join(dir, 'payload');
    writeFileSync(file, 'from the peer');
    peer = openBus({ address: bus.address, negotiateUnixFd: true });
    // Replies with a fresh fd on `file` after the requested delay (ms).
    peer.addMethodHandler((msg: dbusNext.Message) => {
      if (msg.interface !== IFACE || msg.member !== 'SlowFd') return false;
      const fd = openSync(file, 'r');
      setTimeout(() => {
        peer.send(dbusNext.Message.newMethodReturn(msg, 'h', [fd]));
        setTimeout(() => closeSync(fd), 200); // the peer's own copy
      }, msg.body[0] as number);
      return true;
    });
    await peer.requestName(PEER, 0);
    client = await rt.Connection.open({ address: bus.address });
  });
  after(async () => {
    await client?.close();
    if (peer) await closeBus(peer);
    await bus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const slowFd = (delayMs: number, timeoutMs: number) => client.call({ destination: PEER, path: PATH, interface: IFACE, member: 'SlowFd', signature: 'u', body: [delayMs], timeoutMs });

  it('a reply to a waiting call hands its fd to the caller, open and readable', async () => {
    const reply = await slowFd(0, 5000);
    const fd = reply!.body[0] as number;
    assert.equal(readFileSync(`/proc/self/fd/${fd}`, 'utf8'), 'from the peer');
    closeSync(fd);
  });

  it('fds in replies that arrive after the call timed out are closed', async () => {
    await slowFd(0, 5000).then((r) => closeSync(r!.body[0] as number)); // warm-up
    await new Promise((r) => setTimeout(r, 300));
    const before = openFds();
    const late = await Promise.allSettled(Array.from({ length: 10 }, () => slowFd(400, 50)));
    assert.ok(late.every((s) => s.status === 'rejected' && /no reply within/.test(String(s.reason))));
    await new Promise((r) => setTimeout(r, 1000)); // the late replies arrive, the peer closes its copies
    assert.equal(openFds(), before, 'late replies left fds open');
  });

  it('fds in signals are closed once the handlers ran', async () => {
    const seen: number[] = [];
    const sub = await client.subscribe({ path: PATH, interface: IFACE, member: 'Handed' }, (msg) => seen.push(msg.body[0] as number));
    await new Promise((r) => setTimeout(r, 200));
    const before = openFds();
    const fd = openSync(file, 'r');
    for (let i = 0; i < 10; i++) {
      const signal = new dbusNext.Message({ type: 4, path: PATH, interface: IFACE, member: 'Handed', signature: 'h', body: [fd] } as never);
      peer.send(signal);
    }
    await new Promise((r) => setTimeout(r, 500));
    closeSync(fd);
    assert.equal(seen.length, 10, 'the handler got every signal');
    assert.equal(openFds(), before, 'signal fds left open');
    await sub.unsubscribe();
  });
});
