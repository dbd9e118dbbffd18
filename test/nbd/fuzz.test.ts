// Hostile clients: random bytes and randomly mangled option and request
// streams. The server must answer or hang up, never throw, never touch the
// medium outside its bounds, never send after closing, and every reply it
// sends must parse; over real sockets, nothing stays open.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { NbdServerConnection } from '../../nbd/core/index.js';
import { CheckedMedium, MemoryPipe, settle } from './support/memory-pipe.js';
import { UnixNbdServer } from './support/unix-server.js';
import { clientFlags, concat, goData, GREETING_LENGTH, option, request } from './support/wire.js';

const SIZE = 8192;
const image = new Uint8Array(randomBytes(SIZE));

/** Option messages: mostly well-formed, some with lying lengths. */
const anOption = fc.oneof(
  { weight: 3, arbitrary: fc.record({ code: fc.constantFrom(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 0xffffffff), data: fc.uint8Array({ maxLength: 40 }) }).map(({ code, data }) => option(code, data)) },
  { weight: 3, arbitrary: fc.record({ code: fc.constantFrom(6, 7), name: fc.constantFrom('', 'disk', 'x'), infos: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }) }).map(({ code, name, infos }) => option(code, goData(name, infos))) },
  { weight: 1, arbitrary: fc.record({ code: fc.nat(20), data: fc.uint8Array({ maxLength: 20 }), lie: fc.nat(70_000) }).map(({ code, data, lie }) => option(code, data, lie)) },
);

/** A range inside the medium (most of the time) or anywhere in 64 bits. */
const aRange = fc.oneof(
  { weight: 4, arbitrary: fc.nat(SIZE).chain((offset) => fc.tuple(fc.constant(BigInt(offset)), fc.nat(SIZE - offset))) },
  { weight: 1, arbitrary: fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.nat(0xffffffff)) },
  { weight: 1, arbitrary: fc.tuple(fc.bigInt({ min: 0n, max: BigInt(SIZE) }), fc.nat(2 * SIZE)) },
);

const aRequest = fc
  .record({
    type: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0, 0, 0, 0, 0, 1, 1, 3, 4, 6) }, { weight: 1, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.nat(0xffff) }),
    flags: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(0xffff) }),
    cookie: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    range: aRange,
  })
  .map(({ type, flags, cookie, range: [offset, length] }) => {
    // A WRITE carries its payload when it is small enough to build; else the header alone (a lie).
    const payload = type === 1 && length <= 2 * SIZE ? new Uint8Array(length) : undefined;
    return { type, flags, cookie, offset, length, bytes: request(type, cookie, offset, length, flags, payload) };
  });

const mangle = (bytes: Uint8Array, flips: Array<[number, number]>) => {
  const out = bytes.slice();
  for (const [at, value] of flips) if (out.byteLength) out[at % out.byteLength] = value;
  return out;
};

function run(stream: Uint8Array, cuts: number[], writable: boolean) {
  const medium = new CheckedMedium(image.slice(), writable);
  const pipe = new MemoryPipe();
  const conn = new NbdServerConnection(medium, pipe, { name: 'disk', maxInFlight: 4 });
  conn.start();
  let at = 0;
  for (const cut of cuts) {
    if (at >= stream.byteLength) break;
    conn.receive(stream.subarray(at, at + 1 + cut));
    at += 1 + cut;
  }
  if (at < stream.byteLength) conn.receive(stream.subarray(at));
  return { medium, pipe, conn };
}

async function finished(r: ReturnType<typeof run>) {
  await settle();
  r.conn.peerClosed();
  const end = await r.conn.done;
  assert.deepEqual(r.medium.violations, []);
  assert.equal(r.pipe.sendsAfterClose, 0);
  return end;
}

describe('nbd core: fuzzing', function () {
  this.timeout(20_000);

  it('random bytes after the greeting: answered or hung up, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(64), { maxLength: 20 }), fc.boolean(), async (bytes, cuts, writable) => {
        const r = run(bytes, cuts, writable);
        await finished(r);
        assert.ok(r.pipe.output().byteLength >= GREETING_LENGTH);
      }),
      { numRuns: 300 },
    );
  });

  it('mangled option haggling then mangled requests: every reply parses, reads return the medium bytes', async () => {
    let verifiedReads = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, 2, 3, 3, 3, 3, 3, 4),
        fc.array(anOption, { maxLength: 4 }),
        fc.array(aRequest, { minLength: 1, maxLength: 30 }),
        fc.oneof({ weight: 2, arbitrary: fc.constant([] as Array<[number, number]>) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(5000), fc.nat(255)), { maxLength: 2 }) }),
        fc.array(fc.nat(100), { maxLength: 30 }),
        fc.boolean(),
        async (flags, options, requests, flips, cuts, writable) => {
          const go = option(7, goData('disk'));
          const stream = mangle(concat([clientFlags(flags), ...options, go, ...requests.map((q) => q.bytes)]), flips);
          const r = run(stream, cuts, writable);
          await finished(r);
          verifiedReads += checkReplies(r.pipe.output(), requests, writable ? undefined : image);
        },
      ),
      { numRuns: 200 },
    );
    assert.ok(verifiedReads >= 10, `the generator reaches transmission: ${verifiedReads} reads verified`);
  });

  it('over real unix sockets: 40 hostile clients that hang up at random points leave no socket open', async () => {
    const server = await UnixNbdServer.start(new CheckedMedium(image.slice(), true), { name: 'disk' });
    const samples = fc.sample(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.array(aRequest, { maxLength: 8 }), fc.nat(3)), { numRuns: 40, seed: 15 });
    await Promise.all(
      samples.map(
        ([garbage, requests, how]) =>
          new Promise<void>((resolve) => {
            const s = connect(server.socket);
            s.on('error', () => undefined);
            s.resume(); // read (and drop) the replies, so the server's FIN is seen
            s.on('close', () => resolve());
            s.on('connect', () => {
              const valid = concat([clientFlags(3), option(7, goData('')), ...requests.map((q) => q.bytes)]);
              s.write(how === 0 ? garbage : how === 1 ? concat([valid, garbage]) : valid);
              // 0-1: leave it to the server; 2: destroy at once; 3: half-close.
              if (how === 2) s.destroy();
              else if (how === 3) s.end();
              else setTimeout(() => s.destroy(), 50);
            });
          }),
      ),
    );
    const ends = await server.stop();
    assert.equal(ends.length, 40);
    assert.equal(server.openSockets, 0);
  });

  it('a client that stops reading and is hung up on is cut off, not kept open', async function () {
    const server = await UnixNbdServer.start(new CheckedMedium(image.slice(), false), { name: 'disk' });
    const s = connect(server.socket);
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    s.pause(); // never reads: replies pile up in the server's socket
    const reads = Array.from({ length: 500 }, (_, i) => request(0, BigInt(i), 0n, SIZE)); // 4 MiB of replies: under the output high-water mark
    const bad = request(0, 0n, 0n, 0);
    bad[0] = 0; // then a bad magic: the server hangs up
    s.write(concat([clientFlags(3), option(7, goData('')), ...reads, bad]));
    await new Promise<void>((resolve) => {
      const poll = () => (server.ends.length > 0 ? resolve() : setTimeout(poll, 50));
      poll();
    });
    assert.equal(server.ends[0]!.reason, 'protocol');
    // The grace period (5 s) passes, then the socket is destroyed although the client never read.
    await new Promise((r) => setTimeout(r, 5500));
    assert.equal(server.openSockets, 0);
    s.destroy();
    await server.stop();
  });
});

/**
 * Walks the server's output after the handshake. Option replies are skipped by
 * their magic and length; in transmission every simple reply must carry a
 * cookie that was sent, and a successful READ of a read-only export must hold
 * exactly the medium's bytes.
 */
function checkReplies(out: Uint8Array, requests: Array<{ type: number; cookie: bigint; offset: bigint; length: number }>, expected: Uint8Array | undefined): number {
  let verified = 0;
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = GREETING_LENGTH;
  while (at + 8 <= out.byteLength && v.getBigUint64(at) === 0x3e889045565a9n) {
    assert.ok(at + 20 <= out.byteLength, 'option reply header complete');
    at += 20 + v.getUint32(at + 16);
  }
  // EXPORT_NAME replies (10 or 134 bytes) carry no magic: skip to the first reply magic.
  while (at + 4 <= out.byteLength && v.getUint32(at) !== 0x67446698) at++;
  const byCookie = new Map<bigint, (typeof requests)[number]>();
  const repeated = new Set<bigint>();
  for (const q of requests) {
    if (byCookie.has(q.cookie)) repeated.add(q.cookie);
    byCookie.set(q.cookie, q);
  }
  while (at + 16 <= out.byteLength) {
    assert.equal(v.getUint32(at), 0x67446698, `simple reply magic at ${at}`);
    const error = v.getUint32(at + 4);
    const cookie = v.getBigUint64(at + 8);
    at += 16;
    const q = byCookie.get(cookie);
    // Mangling may have changed a cookie, or the generator repeated one (replies come in completion
    // order, so which request a repeated cookie answers is unknown): the stream stops being checkable.
    if (!q || repeated.has(cookie)) return verified;
    if (error === 0 && q.type === 0) {
      assert.ok(q.offset + BigInt(q.length) <= BigInt(SIZE), 'a successful read lies inside the medium');
      if (expected) assert.deepEqual(out.subarray(at, at + q.length), expected.subarray(Number(q.offset), Number(q.offset) + q.length));
      at += q.length;
      verified++;
    }
  }
  return verified;
}
