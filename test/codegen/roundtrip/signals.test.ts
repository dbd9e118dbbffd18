// Typed signals and subscriptions that really end.
import { strict as assert } from 'node:assert';
import { eventually, startFixture, type Fixture } from './everything-service.js';

describe('round trip: signals', function () {
  this.timeout(20000);
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => f?.stop());

  it('a signal arrives typed (enum and dict of variants decoded)', async () => {
    const got: unknown[][] = [];
    const sub = await f.client.onHappened((...args) => got.push(args));
    f.service.emitHappened('x', 'Red', new Map([['s', { type: 'string', value: 'v' }]]));
    await eventually(() => got.length === 1);
    assert.deepEqual(got[0], ['x', 'Red', new Map([['s', { type: 'string', value: 'v' }]])]);
    await sub.unsubscribe();
  });

  it('after unsubscribe, nothing more is delivered', async () => {
    const got: unknown[] = [];
    const sub = await f.client.onHappened((what) => got.push(what));
    f.service.emitHappened('one', 'Red', new Map());
    await eventually(() => got.length === 1);
    await sub.unsubscribe();
    f.service.emitHappened('two', 'Red', new Map());
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(got, ['one']);
  });

  it('signals from another sender with the same path are not delivered', async () => {
    const got: unknown[] = [];
    await f.client.onHappened((what) => got.push(what));
    // The client's own connection emits a look-alike signal.
    const dbus = await import('../../../codegen/runtime/dbus-next.js');
    f.clientConnection.bus.send(dbus.Message.newSignal('/net/example/test/obj1', 'net.example.Test.Everything', 'Happened', 'ssa{sv}', ['fake', 'net.example.Test.Everything.Color.Red', {}]));
    f.service.emitHappened('real', 'Blue', new Map());
    await eventually(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(got, ['real']);
  });
});
