// What a caller sees when things go wrong: declared errors arrive typed,
// anything else is InternalFailure with no stack trace or detail; calls time
// out; pending calls fail when the connection drops.
import { strict as assert } from 'node:assert';
import * as rt from '../../../codegen/runtime/index.js';
import { Broken } from '../generated/net/example/Test/error.js';
import { Unhappy } from '../generated/net/example/Test/Everything/error.js';
// Another generated module defining xyz.openbmc_project.Common.Error.InternalFailure,
// registered after the runtime's own class of the same D-Bus name.
import { InternalFailure } from '../../../bindings/xyz/openbmc_project/Common/error.js';
import { EverythingClient } from '../generated/net/example/Test/Everything/client.js';
import { OBJECT, SERVICE, startFixture, type Fixture } from './everything-service.js';

const leaksNothing = (e: rt.DBusError) => !/at |\/root|\/etc|\.ts:|secret/.test(e.text) && e.type !== 'com.github.dbus_next.ServiceError';

describe('round trip: errors, timeouts, dropped connections', function () {
  this.timeout(20000);
  let f: Fixture;
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => f?.stop());

  it('a declared error arrives as its generated class, with its D-Bus name and text', async () => {
    await assert.rejects(f.client.Fail('declared'), (e) => e instanceof Broken && e.type === 'net.example.Test.Error.Broken' && e.text === 'it broke on purpose');
    await assert.rejects(f.client.Fail('self'), (e) => e instanceof Unhappy && e.text === 'The service is unhappy.');
  });

  for (const how of ['plain', 'async', 'type', 'undeclared']) {
    it(`a ${how} exception becomes InternalFailure: no stack, no detail sent; the detail is logged`, async () => {
      await assert.rejects(f.client.Fail(how), (e: rt.DBusError) => e instanceof rt.InternalFailureError && leaksNothing(e));
      assert.ok(f.service.logged.length > 0, 'logged locally');
    });
  }

  it('an error is instanceof every class that carries its D-Bus name (runtime and generated alike)', async () => {
    await assert.rejects(f.client.Fail('plain'), (e) => e instanceof rt.InternalFailureError && e instanceof InternalFailure && !(e instanceof Broken));
    const broken = new Broken('x');
    assert.ok(broken instanceof Broken && broken instanceof rt.TypedDBusError && broken instanceof rt.DBusError);
    assert.ok(!(new rt.DBusError('net.example.Other', '') instanceof rt.TypedDBusError));
  });

  it('a call that gets no answer times out with org.freedesktop.DBus.Error.Timeout, and the connection stays usable', async () => {
    // The text names the timeout that fired: this call's own, not the connection's default.
    await assert.rejects(f.client.Stall({ timeoutMs: 200 }), (e: rt.DBusError) => e.type === rt.StandardError.Timeout && /Stall/.test(e.text) && /within 200 ms/.test(e.text));
    assert.equal(await f.client.get('Writable'), 'hello');
  });

  it('calls with different timeouts each time out on their own, in deadline order, whatever order they were made in', async () => {
    const connection = await rt.Connection.open({ address: f.bus.address });
    const client = new EverythingClient(connection, SERVICE, OBJECT);
    const settled: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => settled.push(`${name} resolved`), (e: rt.DBusError) => settled.push(`${name} ${e.type.replace(/.*\./, '')}`));
    const long = track('long', client.Stall({ timeoutMs: 60_000 }));
    const late = track('late', client.Stall({ timeoutMs: 2000 }));
    const early = track('early', client.Stall({ timeoutMs: 200 }));
    const answered = track('answered', client.get('Writable'));
    await Promise.all([late, early, answered]);
    assert.deepEqual(settled.filter((s) => s !== 'answered resolved'), ['early Timeout', 'late Timeout']);
    assert.ok(settled.includes('answered resolved'), 'a call answered meanwhile is not disturbed');
    await connection.close();
    await long;
    assert.equal(settled[3], 'long Disconnected', 'the long call was still waiting, and closing ends it');
  });

  it('pending calls are rejected when the connection drops', async () => {
    const pending = assert.rejects(f.client.Stall({ timeoutMs: 10000 }), (e: rt.DBusError) => e.type === rt.StandardError.Disconnected);
    await new Promise((r) => setTimeout(r, 50));
    await f.clientConnection.close();
    await pending;
    await assert.rejects(f.client.get('Writable'), (e: rt.DBusError) => e.type === rt.StandardError.Disconnected);
  });

  it('pending calls are rejected when the bus itself goes away', async () => {
    const pending = assert.rejects(f.client.Stall({ timeoutMs: 10000 }), (e: rt.DBusError) => e.type === rt.StandardError.Disconnected);
    await new Promise((r) => setTimeout(r, 50));
    await f.bus.stop();
    await pending;
  });

  it('a service that emits or answers after its connection closed drops the message instead of crashing', async () => {
    await f.serverConnection.close();
    assert.doesNotThrow(() => f.service.emitHappened('late', 'Red', new Map()));
    assert.doesNotThrow(() => {
      f.service.Writable = 'late';
      f.service.flushPropertiesChanged();
    });
  });

  it('no_reply methods are sent without waiting', async () => {
    assert.equal(await f.client.Forget(), undefined);
    const deadline = Date.now() + 2000;
    while (f.service.Writable !== 'forgotten' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(f.service.Writable, 'forgotten');
  });

  it('calling a method with the wrong signature is UnknownMethod, not a crash', async () => {
    await assert.rejects(
      f.clientConnection.call({ destination: 'net.example.Test', path: '/net/example/test/obj1', interface: 'net.example.Test.Everything', member: 'Fail', signature: 'i', body: [1] }),
      (e: rt.DBusError) => e.type === 'org.freedesktop.DBus.Error.UnknownMethod',
    );
    assert.equal(await f.client.get('Writable'), 'hello');
  });

  it('connecting to a bus that is not there fails with a clear message', async () => {
    await assert.rejects(rt.Connection.open({ address: 'unix:path=/nonexistent/bus' }), /cannot connect to D-Bus at unix:path=\/nonexistent\/bus/);
  });
});
