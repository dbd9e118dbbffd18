// A generated server (net.example.Test.Everything) implemented the way a
// service author would, plus a connected generated client: the fixture the
// round-trip tests share.
import { openSync, readFileSync, closeSync } from 'node:fs';
import * as rt from '../../../codegen/runtime/index.js';
import { EverythingServer } from '../generated/net/example/Test/Everything/server.js';
import { EverythingClient } from '../generated/net/example/Test/Everything/client.js';
import { ForeignServer } from '../generated/net/example/Test/Foreign/server.js';
import { Broken } from '../generated/net/example/Test/error.js';
import { Unhappy } from '../generated/net/example/Test/Everything/error.js';
import { startPrivateBus, type PrivateBus } from '../../support/private-bus.js';

export const SERVICE = 'net.example.Test';
export const MANAGER = '/net/example/test';
export const OBJECT = '/net/example/test/obj1';

export class Everything extends EverythingServer {
  /** What the service logged (errors it hid from callers). */
  readonly logged: string[] = [];
  /** Values accepted by onPropertySet, for assertions. */
  readonly sets: [string, unknown][] = [];

  constructor(log: string[]) {
    super({ log: { error: (m) => log.push(m), warning: (m) => log.push(m), info() {}, debug() {} } });
    this.logged = log;
  }

  EchoSimple(...args: Parameters<EverythingServer['EchoSimple']>) {
    return args.slice(0, 14) as ReturnType<EverythingServer['EchoSimple']> & unknown[] as never;
  }
  EchoContainers(...args: Parameters<EverythingServer['EchoContainers']>) {
    return args.slice(0, 8) as never;
  }
  EchoEnums(...args: Parameters<EverythingServer['EchoEnums']>) {
    return args.slice(0, 4) as never;
  }
  ColorFromString(text: string) {
    return text as never; // deliberately unchecked: the runtime must refuse it on the way out
  }
  PassFd(fd: number): [string, number] {
    const content = readFileSync(`/proc/self/fd/${fd}`, 'utf8');
    // A fresh descriptor on the same file for the reply; the runtime closes the received one.
    const copy = openSync(`/proc/self/fd/${fd}`, 'r');
    setTimeout(() => closeSync(copy), 1000);
    return [content, copy];
  }
  PassFdVariant(fd: { type: 'int32'; value: number } | { type: 'unixfd'; value: number }): string {
    return fd.type === 'int32' ? `int ${fd.value}` : readFileSync(`/proc/self/fd/${fd.value}`, 'utf8');
  }
  Fail(how: string): void {
    if (how === 'declared') throw new Broken('it broke on purpose');
    if (how === 'self') throw new Unhappy();
    if (how === 'undeclared') throw new rt.DBusError('net.example.Other.Error.Secret', 'secret detail /etc/shadow');
    if (how === 'async') throw new Error('async failure with secret detail /root/.key');
    if (how === 'type') (null as unknown as { x: number }).x = 1;
    throw new Error('plain failure with secret detail /root/.key');
  }
  Stall(): Promise<void> {
    return new Promise(() => {});
  }
  Poke(text: string): void {
    this.Writable = text;
    this.ReadOnly = this.ReadOnly + 1n;
    this.Invalidating = this.Invalidating + 1;
    this.Constant = this.Constant + 1;
    this.emitHappened(text, 'Blue', new Map([['n', { type: 'int64', value: 42n }]]));
  }
  Forget(): void {
    this.Writable = 'forgotten';
  }
  Old(): void {}
  Secret(): void {}
  override onPropertySet(name: string, value: unknown): void {
    if (name === 'Writable' && value === 'forbidden') throw new Broken('that value is not allowed');
    this.sets.push([name, value]);
  }
}

class Foreign extends ForeignServer {}

export interface Fixture {
  bus: PrivateBus;
  serverConnection: rt.Connection;
  clientConnection: rt.Connection;
  objects: rt.ObjectServer;
  service: Everything;
  client: EverythingClient;
  log: string[];
  stop(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const bus = await startPrivateBus();
  const serverConnection = await rt.Connection.open({ address: bus.address });
  const log: string[] = [];
  const objects = new rt.ObjectServer(serverConnection, { log: rt.silentLogger });
  objects.addManager(MANAGER);
  const service = new Everything(log);
  objects.add(OBJECT, service, new Foreign());
  await serverConnection.requestName(SERVICE);
  const clientConnection = await rt.Connection.open({ address: bus.address, callTimeoutMs: 5000 });
  const client = new EverythingClient(clientConnection, SERVICE, OBJECT);
  return {
    bus,
    serverConnection,
    clientConnection,
    objects,
    service,
    client,
    log,
    async stop() {
      await clientConnection.close();
      await serverConnection.close();
      await bus.stop();
    },
  };
}

/** Waits until `predicate` holds (for signals that arrive asynchronously). */
export async function eventually(predicate: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
