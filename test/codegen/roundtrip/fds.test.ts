// Unix fds cross the bus both ways, bare (`h`) and inside a variant.
import { strict as assert } from 'node:assert';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbusNext from 'dbus-next';
import * as rt from '../../../codegen/runtime/index.js';
import { closeBus, openBus } from '../../../codegen/runtime/transport.js';
import { EverythingClient } from '../generated/net/example/Test/Everything/client.js';
import { OBJECT, SERVICE, startFixture, type Fixture } from './everything-service.js';

describe('round trip: unix fd passing', function () {
  this.timeout(20000);
  let f: Fixture;
  let dir: string;
  before(async () => {
    f = await startFixture();
    dir = mkdtempSync(join(tmpdir(), 'vm-fd-'));
  });
  after(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('client → server (h) and server → client (h in the reply)', async () => {
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'fd content');
    const fd = openSync(file, 'r');
    try {
      const [content, copy] = await f.client.PassFd(fd);
      assert.equal(content, 'fd content');
      assert.notEqual(copy, fd, 'a new descriptor in this process');
      assert.equal(readlinkSync(`/proc/self/fd/${copy}`), file);
      assert.equal(readFileSync(`/proc/self/fd/${copy}`, 'utf8'), 'fd content');
      closeSync(copy);
    } finally {
      closeSync(fd);
    }
  });

  it('h inside a variant, and the int alternative of the same variant', async () => {
    const file = join(dir, 'b.txt');
    writeFileSync(file, 'variant fd');
    const fd = openSync(file, 'r');
    try {
      assert.equal(await f.client.PassFdVariant({ type: 'unixfd', value: fd }), 'variant fd');
      assert.equal(await f.client.PassFdVariant({ type: 'int32', value: -1 }), 'int -1');
    } finally {
      closeSync(fd);
    }
  });

  it('received fds are closed once the handler is done (no leak)', async () => {
    const file = join(dir, 'c.txt');
    writeFileSync(file, 'x');
    const openFds = () => readdirSync('/proc/self/fd').length;
    const fd = openSync(file, 'r');
    await f.client.PassFdVariant({ type: 'unixfd', value: fd }); // warm up
    const before = openFds();
    for (let i = 0; i < 20; i++) await f.client.PassFdVariant({ type: 'unixfd', value: fd });
    closeSync(fd);
    assert.ok(openFds() <= before, `fds grew from ${before} to ${openFds()}`);
  });
});

describe('round trip: a connection that cannot pass fds says so at once', function () {
  this.timeout(20000);
  let f: Fixture;
  let noFds: rt.Connection;
  let client: EverythingClient;
  let dir: string;
  before(async () => {
    f = await startFixture();
    noFds = await rt.Connection.open({ address: f.bus.address, negotiateUnixFd: false, callTimeoutMs: 10_000 });
    client = new EverythingClient(noFds, SERVICE, OBJECT);
    dir = mkdtempSync(join(tmpdir(), 'vm-nofd-'));
  });
  after(async () => {
    await noFds?.close();
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the connection says why; a generated call with h fails with NotSupported naming it, not a timeout', async () => {
    assert.equal(noFds.unixFdUnavailable, 'the connection was opened with negotiateUnixFd: false');
    assert.equal(f.clientConnection.unixFdUnavailable, undefined, 'the default connection passes fds (the addon is built here)');
    await assert.rejects(client.PassFd(0), (e: rt.DBusError) => {
      assert.equal(e.type, 'org.freedesktop.DBus.Error.NotSupported');
      assert.equal(e.text, `net.example.Test.Everything.PassFd on ${SERVICE} ${OBJECT}: its arguments hold unix fds, which this connection cannot pass: the connection was opened with negotiateUnixFd: false`);
      return true;
    });
  });

  it('an fd inside a variant fails the same way; the variant\'s other alternative still goes through', async () => {
    const file = join(dir, 'v.txt');
    writeFileSync(file, 'v');
    const fd = openSync(file, 'r');
    try {
      await assert.rejects(client.PassFdVariant({ type: 'unixfd', value: fd }), (e: rt.DBusError) => {
        assert.equal(e.type, 'org.freedesktop.DBus.Error.NotSupported');
        assert.match(e.text, /^cannot send unix fds on the D-Bus connection to unix:.*: the connection was opened with negotiateUnixFd: false$/);
        return true;
      });
      assert.equal(await client.PassFdVariant({ type: 'int32', value: 7 }), 'int 7');
    } finally {
      closeSync(fd);
    }
  });

  it('a service that cannot send the fds of its reply answers NotSupported instead, so the caller does not wait', async () => {
    const peer = openBus({ address: f.bus.address, negotiateUnixFd: false });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const file = join(dir, 'r.txt');
      writeFileSync(file, 'r');
      const fd = openSync(file, 'r');
      peer.addMethodHandler((msg: dbusNext.Message) => {
        if (msg.member !== 'GiveFd') return false;
        peer.send(dbusNext.Message.newMethodReturn(msg, 'h', [fd]));
        return true;
      });
      await peer.requestName('net.example.NoFds', 0);
      // No replySignature: the caller cannot know the reply holds fds.
      await assert.rejects(f.clientConnection.call({ destination: 'net.example.NoFds', path: '/', interface: 'net.example.NoFds', member: 'GiveFd', timeoutMs: 10_000 }), (e: rt.DBusError) => {
        assert.equal(e.type, 'org.freedesktop.DBus.Error.NotSupported');
        assert.match(e.text, /^cannot send unix fds on the D-Bus connection to unix:.*: the connection was opened with negotiateUnixFd: false$/);
        return true;
      });
      closeSync(fd);
      assert.ok(warnings.some((w) => /was replaced by org\.freedesktop\.DBus\.Error\.NotSupported/.test(w)), warnings.join('\n'));
    } finally {
      process.off('warning', onWarning);
      await closeBus(peer);
    }
  });

  it('negotiateUnixFd: true refuses a tcp address; a reply known to hold fds fails before it is sent', async () => {
    await assert.rejects(rt.Connection.open({ address: 'tcp:host=127.0.0.1,port=9', negotiateUnixFd: true }), /^Error: cannot pass unix fds on the D-Bus connection to tcp:host=127\.0\.0\.1,port=9: it is a tcp address$/);
    await assert.rejects(noFds.call({ destination: SERVICE, path: OBJECT, interface: 'net.example.Test.Everything', member: 'Anything', replySignature: 'sh' }), /its reply holds unix fds, which this connection cannot pass/);
  });
});
