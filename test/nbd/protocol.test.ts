// The NBD server core byte by byte: option haggling edge cases, every
// command's error cases, pipelining, back-pressure, and how it ends.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NbdServerConnection, type ServerOptions } from '../../nbd/core/index.js';
import { BMCWEB_MAX_MESSAGE, messagesOf } from '../../nbd/core/websocket-messages.js';
import { CheckedMedium, MemoryPipe, settle } from './support/memory-pipe.js';
import { clientFlags, concat, goData, GREETING_LENGTH, option, parseOptionReplies, request } from './support/wire.js';

const ERR = (n: number) => (0x80000000 | n) >>> 0;
const REP_ACK = 1, REP_SERVER = 2, REP_INFO = 3;
const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, INFO: 6, GO: 7, STRUCTURED_REPLY: 8 };
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, WRITE_ZEROES: 6 };

function setup(bytes = randomBytes(64 * 1024), writable = false, options: ServerOptions = {}) {
  const medium = new CheckedMedium(new Uint8Array(bytes), writable);
  const pipe = new MemoryPipe();
  const log: string[] = [];
  const conn = new NbdServerConnection(medium, pipe, { name: 'disk', ...options, log: (l) => log.push(l) });
  conn.start();
  return { medium, pipe, conn, log, bytes };
}

/** Everything after the greeting and the option replies, once the client has gone into transmission with GO. */
function go(s: ReturnType<typeof setup>) {
  s.conn.receive(clientFlags(3));
  s.conn.receive(option(OPT.GO, goData('')));
  const out = s.pipe.output().subarray(GREETING_LENGTH);
  const { replies, used } = parseOptionReplies(out);
  assert.equal(replies.at(-1)?.type, REP_ACK);
  return GREETING_LENGTH + used;
}

/** Simple replies in the output after `from`: cookie -> [error, data]. `reads` maps cookies of READs to their length. */
function replies(out: Uint8Array, from: number, reads: Map<bigint, number>) {
  const got = new Map<bigint, { error: number; data?: Uint8Array }>();
  let at = from;
  while (at < out.byteLength) {
    const v = new DataView(out.buffer, out.byteOffset + at);
    assert.equal(v.getUint32(0), 0x67446698, `reply magic at ${at}`);
    const error = v.getUint32(4);
    const cookie = v.getBigUint64(8);
    assert.ok(!got.has(cookie), `cookie ${cookie} answered twice`);
    at += 16;
    if (error === 0 && reads.has(cookie)) {
      got.set(cookie, { error, data: out.slice(at, at + reads.get(cookie)!) });
      at += reads.get(cookie)!;
    } else got.set(cookie, { error });
  }
  return got;
}

describe('nbd core: protocol', () => {
  it('sends the fixed newstyle greeting with NO_ZEROES', () => {
    const s = setup();
    assert.deepEqual(Buffer.from(s.pipe.output()).toString('latin1', 0, 16), 'NBDMAGICIHAVEOPT');
    assert.deepEqual([...s.pipe.output().subarray(16)], [0, 3]);
  });

  it('hangs up on unknown client flags', async () => {
    const s = setup();
    s.conn.receive(clientFlags(0x10));
    assert.equal(s.pipe.closed, true);
    assert.deepEqual(await s.conn.done, { reason: 'protocol', detail: 'unknown client flags 0x10' });
  });

  it('answers options: unknown, STARTTLS and STRUCTURED_REPLY refused, malformed INFO/LIST invalid, oversized skipped, then GO', () => {
    const s = setup();
    s.conn.receive(clientFlags(1));
    s.conn.receive(option(99));
    s.conn.receive(option(OPT.STARTTLS));
    s.conn.receive(option(OPT.STRUCTURED_REPLY));
    s.conn.receive(option(OPT.LIST, new Uint8Array(1)));
    s.conn.receive(option(OPT.INFO, new Uint8Array(5)));
    const badCount = goData('disk', [1]);
    badCount[9] = 7; // claims 7 information requests, carries 1
    s.conn.receive(option(OPT.INFO, badCount));
    const lyingName = goData('disk');
    lyingName[3] = 200; // name length beyond the data
    s.conn.receive(option(OPT.GO, lyingName));
    s.conn.receive(option(OPT.GO, goData('unknown')));
    // 100 KiB of option data, delivered in two pieces: skipped, answered TOO_BIG.
    const big = option(OPT.INFO, new Uint8Array(100 * 1024));
    s.conn.receive(big.subarray(0, 5000));
    s.conn.receive(big.subarray(5000));
    s.conn.receive(option(OPT.LIST));
    s.conn.receive(option(OPT.GO, goData('disk', [1, 2, 3, 0xffff])));
    const { replies } = parseOptionReplies(s.pipe.output().subarray(GREETING_LENGTH));
    assert.deepEqual(
      replies.map((r) => [r.option, r.type]),
      [
        [99, ERR(1)],
        [OPT.STARTTLS, ERR(1)],
        [OPT.STRUCTURED_REPLY, ERR(1)],
        [OPT.LIST, ERR(3)],
        [OPT.INFO, ERR(3)],
        [OPT.INFO, ERR(3)],
        [OPT.GO, ERR(3)],
        [OPT.GO, ERR(6)],
        [OPT.INFO, ERR(9)],
        [OPT.LIST, REP_SERVER],
        [OPT.LIST, REP_ACK],
        [OPT.GO, REP_INFO],
        [OPT.GO, REP_INFO],
        [OPT.GO, REP_INFO],
        [OPT.GO, REP_ACK],
      ],
    );
    const info = replies.filter((r) => r.type === REP_INFO).map((r) => Buffer.from(r.data));
    assert.equal(info[0]!.readUInt16BE(0), 0); // NBD_INFO_EXPORT
    assert.equal(info[0]!.readBigUInt64BE(2), 64n * 1024n);
    assert.equal(info[0]!.readUInt16BE(10), 0b11); // HAS_FLAGS | READ_ONLY
    assert.equal(info[1]!.toString('latin1', 2), 'disk'); // NBD_INFO_NAME, asked for
    assert.equal(info[2]!.readUInt16BE(0), 3); // NBD_INFO_BLOCK_SIZE; no description to give
    assert.equal(s.pipe.closed, false);
  });

  it('NBD_OPT_EXPORT_NAME: 124 zero bytes unless NO_ZEROES; unknown name hangs up; plain newstyle clients get only EXPORT_NAME', async () => {
    const a = setup();
    a.conn.receive(clientFlags(1));
    a.conn.receive(option(OPT.EXPORT_NAME, new TextEncoder().encode('disk')));
    assert.equal(a.pipe.output().byteLength, GREETING_LENGTH + 134);
    const b = setup();
    b.conn.receive(clientFlags(3));
    b.conn.receive(option(OPT.EXPORT_NAME));
    assert.equal(b.pipe.output().byteLength, GREETING_LENGTH + 10);
    const c = setup();
    c.conn.receive(clientFlags(3));
    c.conn.receive(option(OPT.EXPORT_NAME, new TextEncoder().encode('nope')));
    assert.equal((await c.conn.done).reason, 'protocol');
    const d = setup();
    d.conn.receive(clientFlags(0));
    d.conn.receive(option(OPT.LIST));
    assert.equal(d.pipe.output().byteLength, GREETING_LENGTH, 'no option reply to a plain newstyle client');
    assert.equal((await d.conn.done).reason, 'protocol');
  });

  it('NBD_OPT_ABORT is acknowledged, then the connection ends', async () => {
    const s = setup();
    s.conn.receive(clientFlags(3));
    s.conn.receive(option(OPT.ABORT));
    const { replies } = parseOptionReplies(s.pipe.output().subarray(GREETING_LENGTH));
    assert.deepEqual(replies.map((r) => r.type), [REP_ACK]);
    assert.deepEqual(await s.conn.done, { reason: 'abort' });
  });

  it('read-only export: pipelined reads answered with the right bytes; every bad request gets its error and the session goes on', async () => {
    const s = setup();
    const from = go(s);
    const size = 64 * 1024;
    const reqs = [
      request(CMD.READ, 1n, 0n, 4096),
      request(CMD.READ, 2n, BigInt(size - 100), 100),
      request(CMD.READ, 3n, BigInt(size - 100), 101), // one byte past the end
      request(CMD.READ, 4n, 2n ** 64n - 512n, 512), // offset beyond 2^53
      request(CMD.READ, 5n, 0n, 33 * 1024 * 1024), // beyond the maximum payload
      request(CMD.WRITE, 6n, 0n, 512, 0, new Uint8Array(512)), // read-only
      request(CMD.FLUSH, 7n, 0n, 0), // not offered
      request(CMD.TRIM, 8n, 0n, 512),
      request(CMD.WRITE_ZEROES, 9n, 0n, 512),
      request(42, 10n, 0n, 0), // unknown command
      request(CMD.READ, 11n, 0n, 512, 0x8000), // unknown flag
      request(CMD.READ, 12n, 0n, 0), // empty read
      request(CMD.READ, 13n, 7n, 9),
    ];
    // Delivered as one stream cut at odd places.
    const stream = concat(reqs);
    for (let at = 0; at < stream.byteLength; at += 37) s.conn.receive(stream.subarray(at, at + 37));
    await settle();
    const got = replies(s.pipe.output(), from, new Map([[1n, 4096], [2n, 100], [12n, 0], [13n, 9]]));
    const errors = Object.fromEntries([...got].map(([c, r]) => [String(c), r.error]));
    assert.deepEqual(errors, { 1: 0, 2: 0, 3: 22, 4: 22, 5: 22, 6: 1, 7: 22, 8: 1, 9: 1, 10: 22, 11: 22, 12: 0, 13: 0 });
    assert.deepEqual(got.get(1n)!.data, new Uint8Array(s.bytes.subarray(0, 4096)));
    assert.deepEqual(got.get(2n)!.data, new Uint8Array(s.bytes.subarray(size - 100)));
    assert.deepEqual(got.get(13n)!.data, new Uint8Array(s.bytes.subarray(7, 16)));
    assert.deepEqual(s.medium.violations, []);
    assert.equal(s.pipe.closed, false);
  });

  it('a READ the medium fails gets EIO, whether the medium rejects or throws before it returns; the session goes on', async () => {
    const s = setup();
    const failing = s.medium as CheckedMedium & { read: CheckedMedium['read'] };
    const read = failing.read.bind(failing);
    failing.read = (offset, into) => {
      if (offset === 0) throw new Error('thrown by the medium');
      if (offset === 512) return Promise.reject(Object.assign(new Error('rejected by the medium'), { code: 'EIO' }));
      return read(offset, into);
    };
    const from = go(s);
    s.conn.receive(concat([request(CMD.READ, 1n, 0n, 512), request(CMD.READ, 2n, 512n, 512), request(CMD.READ, 3n, 1024n, 512)]));
    await settle();
    const got = replies(s.pipe.output(), from, new Map([[3n, 512]]));
    assert.deepEqual(Object.fromEntries([...got].map(([c, r]) => [String(c), r.error])), { 1: 5, 2: 5, 3: 0 });
    assert.deepEqual(got.get(3n)!.data, new Uint8Array(s.bytes.subarray(1024, 1536)));
    assert.ok(s.log.some((l) => l.includes('thrown by the medium')), s.log.join('\n'));
    assert.equal(s.pipe.closed, false);
  });

  it('a reply the transport throws on (a defect of ours) hangs up with the reason, and the request still settles', async () => {
    const s = setup();
    go(s);
    const send = s.pipe.send.bind(s.pipe);
    s.pipe.send = (bytes) => {
      if (bytes.byteLength === 16 + 512) throw new Error('send failed');
      send(bytes);
    };
    s.conn.receive(request(CMD.READ, 1n, 0n, 512));
    const end = await s.conn.done;
    assert.deepEqual(end, { reason: 'protocol', detail: 'internal error: send failed' });
    assert.equal(s.pipe.closed, true);
  });

  it('read-write export: WRITE (+FUA), WRITE_ZEROES, TRIM, FLUSH, ENOSPC past the end; DISC flushes and closes after the replies', async () => {
    const s = setup(Buffer.alloc(64 * 1024, 0xee), true);
    const from = go(s);
    const data = randomBytes(1000);
    s.conn.receive(
      concat([
        request(CMD.WRITE, 1n, 100n, 1000, 1, data),
        request(CMD.WRITE_ZEROES, 2n, 2000n, 3000, 2),
        request(CMD.TRIM, 3n, 0n, 4096),
        request(CMD.FLUSH, 4n, 0n, 0),
        request(CMD.WRITE, 5n, BigInt(64 * 1024 - 10), 11, 0, new Uint8Array(11)),
        request(CMD.WRITE, 50n, 10000n, 3, 0, new Uint8Array([1, 2, 3])), // after the FLUSH: DISC flushes it
        request(CMD.WRITE_ZEROES, 6n, 0n, 512, 0x10), // FAST_ZERO was not offered
        request(CMD.DISC, 7n, 0n, 0),
        request(CMD.READ, 8n, 0n, 512), // after DISC: ignored
      ]),
    );
    assert.deepEqual(await s.conn.done, { reason: 'disconnect' });
    const got = replies(s.pipe.output(), from, new Map());
    assert.deepEqual(Object.fromEntries([...got].map(([c, r]) => [String(c), r.error])), { 1: 0, 2: 0, 3: 0, 4: 0, 5: 28, 50: 0, 6: 22 });
    assert.deepEqual(s.medium.bytes.subarray(100, 1100), new Uint8Array(data));
    assert.ok(s.medium.bytes.subarray(2000, 5000).every((b) => b === 0));
    assert.equal(s.medium.bytes[5000], 0xee);
    assert.equal(s.medium.flushes, 3, 'FUA, FLUSH, and DISC after a later write');
    assert.equal(s.pipe.closed, true);
    assert.equal(s.pipe.sendsAfterClose, 0);
    assert.equal(s.conn.stats.bytesWritten, 4003);
  });

  it('hangs up on a bad request magic and on a WRITE larger than the maximum payload', async () => {
    const a = setup();
    go(a);
    const bad = request(CMD.READ, 1n, 0n, 512);
    bad[0] = 0;
    a.conn.receive(bad);
    assert.equal((await a.conn.done).reason, 'protocol');
    const b = setup(undefined, true);
    go(b);
    b.conn.receive(request(CMD.WRITE, 1n, 0n, 0xffffffff));
    assert.match((await b.conn.done).detail!, /exceeds the maximum payload/);
  });

  it('pauses input at maxInFlight and resumes; a peer that goes away mid-request ends the connection after the request settles', async () => {
    const s = setup(undefined, false, { maxInFlight: 2 });
    s.medium.delayMs = 20;
    const from = go(s);
    s.conn.receive(concat([1n, 2n, 3n, 4n, 5n].map((c) => request(CMD.READ, c, 0n, 512))));
    assert.equal(s.pipe.paused, true);
    await settle(150);
    assert.equal(s.pipe.paused, false);
    assert.equal(replies(s.pipe.output(), from, new Map([1n, 2n, 3n, 4n, 5n].map((c) => [c, 512]))).size, 5);
    s.conn.receive(request(CMD.READ, 6n, 0n, 512));
    s.conn.peerClosed();
    assert.deepEqual(await s.conn.done, { reason: 'peer' });
    assert.equal(s.pipe.sendsAfterClose, 0);
  });

  it('cuts output into websocket messages bmcweb accepts (at most 128 KiB + 16)', () => {
    const big = new Uint8Array(3 * BMCWEB_MAX_MESSAGE + 5);
    const parts = [...messagesOf(big)];
    assert.deepEqual(parts.map((p) => p.byteLength), [BMCWEB_MAX_MESSAGE, BMCWEB_MAX_MESSAGE, BMCWEB_MAX_MESSAGE, 5]);
    assert.equal([...messagesOf(new Uint8Array(16 + 128 * 1024))].length, 1, 'a 128 KiB READ reply is one message');
  });
});
