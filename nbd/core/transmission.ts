// The transmission phase: requests parsed, checked against the export and
// executed concurrently (up to maxInFlight), simple replies sent as each
// completes. Input pauses at the concurrency limit, and new requests wait
// while the transport holds more than outputHighWater bytes.
import { readU16, readU32, writeSimpleReplyHeader } from './framing.js';
import type { Medium } from './medium.js';
import type { ConnectionLink, ExportDescription, ServerStats } from './options.js';
import * as P from './protocol.js';
import type { Transport } from './transport.js';

const TWO_POW_32 = 2 ** 32;
/** Offsets whose high 32 bits reach 2^21 are beyond Number.MAX_SAFE_INTEGER, so beyond any medium. */
const MAX_SAFE_HIGH = 2 ** 21;

export interface TransmissionLimits {
  maxInFlight: number;
  outputHighWater: number;
  allocate: (size: number) => Uint8Array;
}

/** How the transmission phase hands control back to its connection. */
export interface TransmissionEvents {
  /** NBD_CMD_DISC arrived: the connection winds down (see settled() and needsFinalFlush). */
  disconnect(): void;
  /** A request finished: capacity is free again. */
  completed(): void;
  /** The transport drained below the high-water mark: parsing may go on. */
  drained(): void;
}

interface Request {
  flags: number;
  type: number;
  cookie: Uint8Array;
  /** Infinity when beyond 2^53. */
  offset: number;
  length: number;
  payload: Uint8Array | undefined;
}

export class Transmission {
  readonly stats: ServerStats = { reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, errors: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pendingWrites = new Set<Promise<void>>();
  /** Writes dispatched so far, and how many of them a finished flush covers. */
  private writesDispatched = 0;
  private writesFlushed = 0;
  private waitingForDrain = false;

  constructor(
    private readonly link: ConnectionLink,
    private readonly transport: Transport,
    private readonly medium: Medium,
    private readonly exported: ExportDescription,
    private readonly limits: TransmissionLimits,
    private readonly events: TransmissionEvents,
  ) {}

  /** Requests still executing. */
  get executing(): number {
    return this.inFlight.size;
  }

  /** Whether input should stop flowing: at the concurrency limit, or waiting for output to drain. */
  get saturated(): boolean {
    return this.inFlight.size >= this.limits.maxInFlight || this.waitingForDrain;
  }

  /** Whether writes happened since the last completed flush (NBD_CMD_DISC then flushes). */
  get needsFinalFlush(): boolean {
    return this.writesDispatched > this.writesFlushed;
  }

  /** Resolves once every request executing now has settled. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.inFlight]);
  }

  /** Parses and dispatches at most one request; false when more input (or capacity) is needed. */
  step(): boolean {
    if (this.inFlight.size >= this.limits.maxInFlight) return false;
    if (this.transport.bufferedAmount > this.limits.outputHighWater) {
      this.waitForDrain();
      return false;
    }
    const input = this.link.input;
    if (input.length < P.REQUEST_HEADER) return false;
    const header = input.peek(P.REQUEST_HEADER);
    const magic = readU32(header, 0);
    if (magic !== P.REQUEST_MAGIC) {
      this.link.hangUp('protocol', `request magic 0x${magic.toString(16)} is not 0x25609513`);
      return false;
    }
    const flags = readU16(header, 4);
    const type = readU16(header, 6);
    const high = readU32(header, 16);
    const low = readU32(header, 20);
    const length = readU32(header, 24);
    // Offsets past 2^53 are out of range for every medium; Infinity keeps the comparisons honest.
    const offset = high >= MAX_SAFE_HIGH ? Infinity : high * TWO_POW_32 + low;
    let payload: Uint8Array | undefined;
    if (type === P.CMD_WRITE) {
      if (length > P.MAX_PAYLOAD) {
        // The payload cannot be trusted as framing any more.
        this.link.hangUp('protocol', `NBD_CMD_WRITE of ${length} bytes exceeds the maximum payload ${P.MAX_PAYLOAD}`);
        return false;
      }
      if (input.length < P.REQUEST_HEADER + length) return false;
    }
    const cookie = input.take(P.REQUEST_HEADER).slice(8, 16);
    if (type === P.CMD_WRITE) payload = input.take(length);
    this.dispatch({ flags, type, cookie, offset, length, payload });
    return true;
  }

  /** Flushes the medium if anything was written since the last flush (the end of a session). */
  async finalFlush(): Promise<void> {
    if (this.needsFinalFlush) await this.medium.flush();
  }

  private dispatch(req: Request): void {
    const rangeOk = req.offset + req.length <= this.exported.size;
    const onlyFlags = (allowed: number) => (req.flags & ~allowed) === 0;
    const readOnly = this.exported.readOnly;
    const fua = readOnly ? 0 : P.CMD_FLAG_FUA;
    switch (req.type) {
      case P.CMD_READ:
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (req.length > P.MAX_PAYLOAD) return this.fail(req, P.EINVAL, `read of ${req.length} bytes exceeds the maximum payload`);
        if (!rangeOk) return this.fail(req, P.EINVAL, 'read beyond the end of the export');
        return this.executeRead(req);
      case P.CMD_WRITE:
        if (readOnly) return this.fail(req, P.EPERM, 'write to a read-only export');
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (!rangeOk) return this.fail(req, P.ENOSPC, 'write beyond the end of the export');
        return this.execute(req, () => this.write(req), true);
      case P.CMD_DISC:
        this.events.disconnect();
        return;
      case P.CMD_FLUSH:
        if (readOnly) return this.fail(req, P.EINVAL, 'NBD_CMD_FLUSH was not offered');
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        return this.execute(req, () => this.flushAfterWrites());
      case P.CMD_TRIM:
        if (readOnly) return this.fail(req, P.EPERM, 'trim on a read-only export');
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (!rangeOk) return this.fail(req, P.EINVAL, 'trim beyond the end of the export');
        // A hint the protocol lets us ignore: nothing to discard in a plain file or Blob.
        return this.execute(req, async () => undefined);
      case P.CMD_WRITE_ZEROES:
        if (readOnly) return this.fail(req, P.EPERM, 'write zeroes on a read-only export');
        if (!onlyFlags(fua | P.CMD_FLAG_NO_HOLE)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (!rangeOk) return this.fail(req, P.ENOSPC, 'write zeroes beyond the end of the export');
        return this.execute(req, () => this.writeZeroes(req), true);
      default:
        return this.fail(req, P.EINVAL, `unknown command ${req.type}`);
    }
  }

  private execute(req: Request, work: () => Promise<Uint8Array | undefined>, isWrite = false): void {
    // One promise chain per request (perform, then one settlement): a READ stream runs this
    // thousands of times a second, and every extra promise is a microtask hop.
    const tracked: Promise<void> = this.perform(req, work, isWrite).then(
      () => this.settle(tracked),
      (e: unknown) => {
        this.link.hangUp('protocol', `internal error: ${(e as Error).message}`);
        this.settle(tracked);
      },
    );
    this.inFlight.add(tracked);
    if (isWrite) {
      this.pendingWrites.add(tracked);
      this.writesDispatched++;
    }
  }

  /**
   * A READ, the request a stream sends thousands of times a second: the medium's own promise and
   * one settlement, without execute()'s async wrappers (each is a promise and a microtask hop).
   */
  private executeRead(req: Request): void {
    // Header and data in one buffer: one send, no copy of the data.
    const reply = this.limits.allocate(P.SIMPLE_REPLY_HEADER + req.length);
    let reading: Promise<void>;
    try {
      reading = req.length > 0 ? this.medium.read(req.offset, reply.subarray(P.SIMPLE_REPLY_HEADER)) : Promise.resolve();
    } catch (e) {
      // A medium that throws instead of rejecting still gets its request answered, never an exception out of receive().
      reading = Promise.reject(e);
    }
    const tracked: Promise<void> = reading.then(
      () => {
        this.stats.reads++;
        this.stats.bytesRead += req.length;
        this.settleAfter(tracked, () => this.reply(req, 0, reply));
      },
      (e: unknown) => this.settleAfter(tracked, () => this.fail(req, errnoOf(e), `I/O error: ${(e as Error).message}`)),
    );
    this.inFlight.add(tracked);
  }

  /** Runs the work and replies: an I/O error becomes an error reply, not a rejection. */
  private async perform(req: Request, work: () => Promise<Uint8Array | undefined>, isWrite: boolean): Promise<void> {
    let data: Uint8Array | undefined;
    try {
      data = await work();
      if (isWrite && req.flags & P.CMD_FLAG_FUA) await this.medium.flush();
    } catch (e) {
      this.fail(req, errnoOf(e), `I/O error: ${(e as Error).message}`);
      return;
    }
    this.reply(req, 0, data);
  }

  /** Replies, then settles: a throw from the reply (a defect of ours) hangs up rather than leaving the request in flight. */
  private settleAfter(request: Promise<void>, replying: () => void): void {
    try {
      replying();
    } catch (e) {
      this.link.hangUp('protocol', `internal error: ${(e as Error).message}`);
    }
    this.settle(request);
  }

  private settle(request: Promise<void>): void {
    this.inFlight.delete(request);
    this.pendingWrites.delete(request);
    this.events.completed();
  }

  private async write(req: Request): Promise<undefined> {
    if (req.length > 0) await this.medium.write(req.offset, req.payload!);
    this.stats.writes++;
    this.stats.bytesWritten += req.length;
    return undefined;
  }

  private async writeZeroes(req: Request): Promise<undefined> {
    const chunk = new Uint8Array(Math.min(req.length, 1024 * 1024));
    for (let done = 0; done < req.length; done += chunk.byteLength) {
      const n = Math.min(chunk.byteLength, req.length - done);
      await this.medium.write(req.offset + done, chunk.subarray(0, n));
    }
    this.stats.writes++;
    this.stats.bytesWritten += req.length;
    return undefined;
  }

  private async flushAfterWrites(): Promise<undefined> {
    // Every write replied to before this FLUSH arrived is in pendingWrites or done.
    const covers = this.writesDispatched;
    await Promise.allSettled([...this.pendingWrites]);
    await this.medium.flush();
    this.writesFlushed = Math.max(this.writesFlushed, covers);
    return undefined;
  }

  private fail(req: Request, error: number, why: string): void {
    this.stats.errors++;
    this.link.log(`request type ${req.type} offset ${req.offset} length ${req.length}: ${why}`);
    this.reply(req, error);
  }

  private reply(req: Request, error: number, readReply?: Uint8Array): void {
    if (this.link.closed) return;
    const reply = error === 0 && readReply ? readReply : new Uint8Array(P.SIMPLE_REPLY_HEADER);
    this.link.send(writeSimpleReplyHeader(reply, error, req.cookie));
  }

  private waitForDrain(): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.transport.drained().then(
      () => {
        this.waitingForDrain = false;
        this.events.drained();
      },
      () => (this.waitingForDrain = false),
    );
  }
}

/** NBD error value for a medium failure: ENOSPC for a full disk, EPERM for a refusal, EIO otherwise. */
function errnoOf(e: unknown): number {
  const code = (e as { code?: unknown })?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return P.ENOSPC;
  if (code === 'EPERM' || code === 'EACCES' || code === 'EROFS') return P.EPERM;
  return P.EIO;
}
