// One NBD server connection: fixed newstyle handshake, option haggling,
// then the transmission phase with simple replies, requests pipelined.
// Transport-agnostic: bytes come in through receive(), go out through a
// Transport. Every malformed input gets an error reply where the protocol
// has one, a hard disconnect (close) where it has none; never an exception
// out of receive(), never a read outside the medium.
import { ByteQueue } from './byte-queue.js';
import type { Medium } from './medium.js';
import * as P from './protocol.js';
import type { Transport } from './transport.js';

export interface ExportOptions {
  /** Canonical export name (NBD_OPT_LIST, NBD_INFO_NAME). '' (the default export) is always accepted too. */
  name?: string;
  /** Human-readable description (NBD_OPT_LIST, NBD_INFO_DESCRIPTION). */
  description?: string;
  /** Serve read-only even if the medium is writable. */
  readOnly?: boolean;
}

export interface ServerOptions extends ExportOptions {
  /** Requests executed at once; input is paused beyond (default 16). */
  maxInFlight?: number;
  /** Output bytes queued in the transport above which no new READ starts (default 8 MiB). */
  outputHighWater?: number;
  /** Unparsed input bytes tolerated (a transport that cannot pause); beyond: hard disconnect. */
  inputLimit?: number;
  /** Diagnostics: what a client did wrong, and where. */
  log?: (line: string) => void;
  /**
   * Allocates READ reply buffers. The default zero-fills (new Uint8Array);
   * Node passes Buffer.allocUnsafe, since the medium overwrites every byte.
   */
  allocate?: (size: number) => Uint8Array;
}

export interface ServerStats {
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  /** Requests answered with an error. */
  errors: number;
}

/** How a connection ended. */
export interface ConnectionEnd {
  /** disconnect: NBD_CMD_DISC; abort: NBD_OPT_ABORT; peer: the transport closed; protocol: we hung up on bad input; local: close() was called. */
  reason: 'disconnect' | 'abort' | 'peer' | 'protocol' | 'local';
  detail?: string;
}

type Phase = 'greeting' | 'options' | 'transmission' | 'closing' | 'closed';

const be = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const TWO_POW_32 = 2 ** 32;
/** Offsets whose high 32 bits reach 2^21 are beyond Number.MAX_SAFE_INTEGER, so beyond any medium. */
const MAX_SAFE_HIGH = 2 ** 21;

export class NbdServerConnection {
  readonly stats: ServerStats = { reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, errors: 0 };
  /** Resolves once the connection is closed and no request is still executing. */
  readonly done: Promise<ConnectionEnd>;

  private phase: Phase = 'greeting';
  private readonly input = new ByteQueue();
  private readonly readOnly: boolean;
  private readonly name: Uint8Array;
  private readonly description: Uint8Array;
  private readonly maxInFlight: number;
  private readonly outputHighWater: number;
  private readonly inputLimit: number;
  private readonly allocate: (size: number) => Uint8Array;
  private noZeroes = false;
  private fixedNewstyle = false;
  /** Bytes of an oversized option still to discard before answering it. */
  private skipping: { option: number; left: number } | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pendingWrites = new Set<Promise<void>>();
  /** Writes dispatched so far, and how many of them a finished flush covers. */
  private writesDispatched = 0;
  private writesFlushed = 0;
  private inputPaused = false;
  private waitingForDrain = false;
  private pumping = false;
  private end: ConnectionEnd | undefined;
  private resolveDone!: (end: ConnectionEnd) => void;

  constructor(
    private readonly medium: Medium,
    private readonly transport: Transport,
    private readonly options: ServerOptions = {},
  ) {
    if (!Number.isSafeInteger(medium.size) || medium.size < 0) throw new RangeError(`medium size ${medium.size} is not a byte count`);
    this.readOnly = options.readOnly === true || !medium.writable;
    const encoder = new TextEncoder();
    this.name = encoder.encode(options.name ?? '');
    this.description = encoder.encode(options.description ?? '');
    if (this.name.byteLength > P.MAX_STRING) throw new RangeError('export name longer than 4096 bytes');
    if (this.description.byteLength > P.MAX_STRING) throw new RangeError('export description longer than 4096 bytes');
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 16);
    this.outputHighWater = options.outputHighWater ?? 8 * 1024 * 1024;
    this.inputLimit = options.inputLimit ?? 4 * P.MAX_PAYLOAD;
    this.allocate = options.allocate ?? ((size) => new Uint8Array(size));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Transmission flags of the export (NBD_OPT_EXPORT_NAME / NBD_INFO_EXPORT). */
  get transmissionFlags(): number {
    if (this.readOnly) return P.FLAG_HAS_FLAGS | P.FLAG_READ_ONLY;
    return P.FLAG_HAS_FLAGS | P.FLAG_SEND_FLUSH | P.FLAG_SEND_FUA | P.FLAG_SEND_TRIM | P.FLAG_SEND_WRITE_ZEROES;
  }

  /** Sends the server's greeting. Call once, when the transport is open. */
  start(): void {
    const greeting = new Uint8Array(18);
    const view = be(greeting);
    view.setBigUint64(0, P.NBDMAGIC);
    view.setBigUint64(8, P.IHAVEOPT);
    view.setUint16(16, P.FLAG_FIXED_NEWSTYLE | P.FLAG_NO_ZEROES);
    this.transport.send(greeting);
  }

  /** Bytes from the client. */
  receive(chunk: Uint8Array): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.input.push(chunk);
    if (this.input.length > this.inputLimit) {
      this.hangUp('protocol', `client sent ${this.input.length} bytes without reading the replies (limit ${this.inputLimit})`);
      return;
    }
    this.pump();
  }

  /** The transport closed (the client went away): stop, let executing requests settle. */
  peerClosed(): void {
    this.finish({ reason: 'peer' });
  }

  /** Ends the connection from our side (e.g. Ctrl-C), waiting for executing requests. */
  close(detail = 'closed by the server'): void {
    this.hangUp('local', detail);
  }

  // --- parsing ------------------------------------------------------------

  private pump(): void {
    if (this.pumping) return; // re-entered from a synchronous send or completion
    this.pumping = true;
    try {
      while (this.phase === 'greeting' || this.phase === 'options' || this.phase === 'transmission') {
        if (!this.step()) break;
      }
    } catch (e) {
      // A defect of ours, not the client's: close instead of throwing into the transport.
      this.hangUp('protocol', `internal error: ${(e as Error).message}`);
    } finally {
      this.pumping = false;
    }
    this.updateInputPause();
  }

  /** Parses and handles at most one message; false when more input (or capacity) is needed. */
  private step(): boolean {
    switch (this.phase) {
      case 'greeting':
        return this.stepClientFlags();
      case 'options':
        return this.stepOption();
      case 'transmission':
        return this.stepRequest();
      default:
        return false;
    }
  }

  private stepClientFlags(): boolean {
    if (this.input.length < 4) return false;
    const flags = be(this.input.take(4)).getUint32(0);
    if ((flags & ~P.KNOWN_CLIENT_FLAGS) !== 0) {
      this.hangUp('protocol', `unknown client flags 0x${flags.toString(16)}`);
      return false;
    }
    this.fixedNewstyle = (flags & P.FLAG_C_FIXED_NEWSTYLE) !== 0;
    this.noZeroes = (flags & P.FLAG_C_NO_ZEROES) !== 0;
    this.phase = 'options';
    return true;
  }

  private stepOption(): boolean {
    if (this.skipping) {
      this.skipping.left -= this.input.skip(this.skipping.left);
      if (this.skipping.left > 0) return false;
      const option = this.skipping.option;
      this.skipping = undefined;
      this.optionReply(option, P.REP_ERR_TOO_BIG, 'option data too long');
      return true;
    }
    if (this.input.length < P.OPTION_HEADER) return false;
    const header = be(this.input.peek(P.OPTION_HEADER));
    const magic = header.getBigUint64(0);
    const option = header.getUint32(8);
    const length = header.getUint32(12);
    if (magic !== P.IHAVEOPT) {
      this.hangUp('protocol', `option magic 0x${magic.toString(16)} is not IHAVEOPT`);
      return false;
    }
    if (!this.fixedNewstyle && option !== P.OPT_EXPORT_NAME) {
      // Plain newstyle has no option replies: the only way to refuse is to hang up.
      this.hangUp('protocol', `option ${option} from a client without fixed newstyle`);
      return false;
    }
    if (length > P.MAX_OPTION_DATA) {
      if (option === P.OPT_EXPORT_NAME) {
        this.hangUp('protocol', `NBD_OPT_EXPORT_NAME with ${length} bytes of name`);
        return false;
      }
      this.input.skip(P.OPTION_HEADER);
      this.skipping = { option, left: length };
      return true;
    }
    if (this.input.length < P.OPTION_HEADER + length) return false;
    this.input.skip(P.OPTION_HEADER);
    const data = this.input.take(length);
    this.handleOption(option, data);
    return true;
  }

  private handleOption(option: number, data: Uint8Array): void {
    switch (option) {
      case P.OPT_EXPORT_NAME: {
        if (!this.acceptsName(data)) {
          this.hangUp('protocol', `NBD_OPT_EXPORT_NAME for unknown export ${JSON.stringify(decodeName(data))}`);
          return;
        }
        const reply = new Uint8Array(this.noZeroes ? 10 : 134);
        const view = be(reply);
        view.setBigUint64(0, BigInt(this.medium.size));
        view.setUint16(8, this.transmissionFlags);
        this.transport.send(reply);
        this.phase = 'transmission';
        return;
      }
      case P.OPT_ABORT:
        // Data, if any, is ignored as the protocol asks.
        this.optionReply(option, P.REP_ACK);
        this.hangUp('abort');
        return;
      case P.OPT_LIST: {
        if (data.byteLength !== 0) return this.optionReply(option, P.REP_ERR_INVALID, 'NBD_OPT_LIST takes no data');
        const server = new Uint8Array(4 + this.name.byteLength + this.description.byteLength);
        be(server).setUint32(0, this.name.byteLength);
        server.set(this.name, 4);
        server.set(this.description, 4 + this.name.byteLength);
        this.optionReply(option, P.REP_SERVER, server);
        this.optionReply(option, P.REP_ACK);
        return;
      }
      case P.OPT_INFO:
      case P.OPT_GO:
        this.handleInfoOrGo(option, data);
        return;
      case P.OPT_STARTTLS:
        // The websocket is TLS already; NBD-level TLS is not offered.
        if (data.byteLength !== 0) return this.optionReply(option, P.REP_ERR_INVALID, 'NBD_OPT_STARTTLS takes no data');
        return this.optionReply(option, P.REP_ERR_UNSUP, 'TLS is not offered at the NBD level');
      case P.OPT_STRUCTURED_REPLY:
        // Simple replies only: what the kernel's nbd client uses, and all a READ needs here.
        if (data.byteLength !== 0) return this.optionReply(option, P.REP_ERR_INVALID, 'NBD_OPT_STRUCTURED_REPLY takes no data');
        return this.optionReply(option, P.REP_ERR_UNSUP, 'structured replies are not supported');
      default:
        return this.optionReply(option, P.REP_ERR_UNSUP, `option ${option} is not supported`);
    }
  }

  private handleInfoOrGo(option: number, data: Uint8Array): void {
    const what = option === P.OPT_GO ? 'NBD_OPT_GO' : 'NBD_OPT_INFO';
    if (data.byteLength < 6) return this.optionReply(option, P.REP_ERR_INVALID, `${what}: ${data.byteLength} bytes of data, at least 6 needed`);
    const view = be(data);
    const nameLength = view.getUint32(0);
    if (nameLength > data.byteLength - 6) return this.optionReply(option, P.REP_ERR_INVALID, `${what}: name length ${nameLength} exceeds the option data`);
    const requests = view.getUint16(4 + nameLength);
    if (data.byteLength !== 6 + nameLength + 2 * requests) {
      return this.optionReply(option, P.REP_ERR_INVALID, `${what}: ${requests} information requests do not match ${data.byteLength} bytes of data`);
    }
    const name = data.subarray(4, 4 + nameLength);
    if (nameLength > P.MAX_STRING) return this.optionReply(option, P.REP_ERR_INVALID, `${what}: export name longer than 4096 bytes`);
    if (!this.acceptsName(name)) return this.optionReply(option, P.REP_ERR_UNKNOWN, `no export named ${JSON.stringify(decodeName(name))}`);
    const wanted = new Set<number>();
    for (let i = 0; i < requests; i++) wanted.add(view.getUint16(6 + nameLength + 2 * i));

    const exportInfo = new Uint8Array(12);
    const ev = be(exportInfo);
    ev.setUint16(0, P.INFO_EXPORT);
    ev.setBigUint64(2, BigInt(this.medium.size));
    ev.setUint16(10, this.transmissionFlags);
    this.optionReply(option, P.REP_INFO, exportInfo);
    if (wanted.has(P.INFO_NAME)) this.optionReply(option, P.REP_INFO, withType(P.INFO_NAME, this.name));
    if (wanted.has(P.INFO_DESCRIPTION) && this.description.byteLength > 0) {
      this.optionReply(option, P.REP_INFO, withType(P.INFO_DESCRIPTION, this.description));
    }
    // The default constraints, stated (sent unasked too: the protocol allows it).
    const sizes = new Uint8Array(14);
    const sv = be(sizes);
    sv.setUint16(0, P.INFO_BLOCK_SIZE);
    sv.setUint32(2, 1);
    sv.setUint32(6, 4096);
    sv.setUint32(10, P.MAX_PAYLOAD);
    this.optionReply(option, P.REP_INFO, sizes);
    this.optionReply(option, P.REP_ACK);
    if (option === P.OPT_GO) this.phase = 'transmission';
  }

  private acceptsName(name: Uint8Array): boolean {
    return name.byteLength === 0 || equalBytes(name, this.name);
  }

  private optionReply(option: number, type: number, payload?: Uint8Array | string): void {
    const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : (payload ?? new Uint8Array(0));
    if (type & 0x80000000 && typeof payload === 'string') this.log(`option ${option}: ${payload}`);
    const reply = new Uint8Array(20 + data.byteLength);
    const view = be(reply);
    view.setBigUint64(0, P.OPTION_REPLY_MAGIC);
    view.setUint32(8, option);
    view.setUint32(12, type);
    view.setUint32(16, data.byteLength);
    reply.set(data, 20);
    this.transport.send(reply);
  }

  // --- transmission -------------------------------------------------------

  private stepRequest(): boolean {
    if (this.inFlight.size >= this.maxInFlight) return false;
    if (this.transport.bufferedAmount > this.outputHighWater) {
      this.waitForDrain();
      return false;
    }
    if (this.input.length < P.REQUEST_HEADER) return false;
    const header = be(this.input.peek(P.REQUEST_HEADER));
    const magic = header.getUint32(0);
    if (magic !== P.REQUEST_MAGIC) {
      this.hangUp('protocol', `request magic 0x${magic.toString(16)} is not 0x25609513`);
      return false;
    }
    const flags = header.getUint16(4);
    const type = header.getUint16(6);
    const high = header.getUint32(16);
    const low = header.getUint32(20);
    const length = header.getUint32(24);
    // Offsets past 2^53 are out of range for every medium; Infinity keeps the comparisons honest.
    const offset = high >= MAX_SAFE_HIGH ? Infinity : high * TWO_POW_32 + low;
    let payload: Uint8Array | undefined;
    if (type === P.CMD_WRITE) {
      if (length > P.MAX_PAYLOAD) {
        // The payload cannot be trusted as framing any more.
        this.hangUp('protocol', `NBD_CMD_WRITE of ${length} bytes exceeds the maximum payload ${P.MAX_PAYLOAD}`);
        return false;
      }
      if (this.input.length < P.REQUEST_HEADER + length) return false;
    }
    const cookie = this.input.take(P.REQUEST_HEADER).slice(8, 16);
    if (type === P.CMD_WRITE) payload = this.input.take(length);
    this.dispatch({ flags, type, cookie, offset, length, payload });
    return true;
  }

  private dispatch(req: Request): void {
    const rangeOk = req.offset + req.length <= this.medium.size;
    const onlyFlags = (allowed: number) => (req.flags & ~allowed) === 0;
    const fua = this.readOnly ? 0 : P.CMD_FLAG_FUA;
    switch (req.type) {
      case P.CMD_READ:
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (req.length > P.MAX_PAYLOAD) return this.fail(req, P.EINVAL, `read of ${req.length} bytes exceeds the maximum payload`);
        if (!rangeOk) return this.fail(req, P.EINVAL, 'read beyond the end of the export');
        return this.execute(req, () => this.read(req));
      case P.CMD_WRITE:
        if (this.readOnly) return this.fail(req, P.EPERM, 'write to a read-only export');
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (!rangeOk) return this.fail(req, P.ENOSPC, 'write beyond the end of the export');
        return this.execute(req, () => this.write(req), true);
      case P.CMD_DISC:
        this.disconnect();
        return;
      case P.CMD_FLUSH:
        if (this.readOnly) return this.fail(req, P.EINVAL, 'NBD_CMD_FLUSH was not offered');
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        return this.execute(req, () => this.flushAfterWrites());
      case P.CMD_TRIM:
        if (this.readOnly) return this.fail(req, P.EPERM, 'trim on a read-only export');
        if (!onlyFlags(fua)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (!rangeOk) return this.fail(req, P.EINVAL, 'trim beyond the end of the export');
        // A hint the protocol lets us ignore: nothing to discard in a plain file or Blob.
        return this.execute(req, async () => undefined);
      case P.CMD_WRITE_ZEROES:
        if (this.readOnly) return this.fail(req, P.EPERM, 'write zeroes on a read-only export');
        if (!onlyFlags(fua | P.CMD_FLAG_NO_HOLE)) return this.fail(req, P.EINVAL, 'unsupported command flags');
        if (!rangeOk) return this.fail(req, P.ENOSPC, 'write zeroes beyond the end of the export');
        return this.execute(req, () => this.writeZeroes(req), true);
      default:
        return this.fail(req, P.EINVAL, `unknown command ${req.type}`);
    }
  }

  private execute(req: Request, work: () => Promise<Uint8Array | undefined>, isWrite = false): void {
    const task = (async () => {
      let data: Uint8Array | undefined;
      try {
        data = await work();
        if (isWrite && req.flags & P.CMD_FLAG_FUA) await this.medium.flush();
      } catch (e) {
        this.fail(req, errnoOf(e), `I/O error: ${(e as Error).message}`);
        return;
      }
      this.reply(req, 0, data);
    })();
    const tracked = task
      .catch((e: unknown) => this.hangUp('protocol', `internal error: ${(e as Error).message}`))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.pendingWrites.delete(tracked);
        this.afterCompletion();
      });
    this.inFlight.add(tracked);
    if (isWrite) {
      this.pendingWrites.add(tracked);
      this.writesDispatched++;
    }
  }

  private async read(req: Request): Promise<Uint8Array> {
    // Header and data in one buffer: one send, no copy of the data.
    const reply = this.allocate(P.SIMPLE_REPLY_HEADER + req.length);
    if (req.length > 0) await this.medium.read(req.offset, reply.subarray(P.SIMPLE_REPLY_HEADER));
    this.stats.reads++;
    this.stats.bytesRead += req.length;
    return reply;
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
    this.log(`request type ${req.type} offset ${req.offset} length ${req.length}: ${why}`);
    this.reply(req, error);
  }

  private reply(req: Request, error: number, readReply?: Uint8Array): void {
    if (this.phase === 'closed') return;
    const reply = error === 0 && readReply ? readReply : new Uint8Array(P.SIMPLE_REPLY_HEADER);
    const view = be(reply);
    view.setUint32(0, P.SIMPLE_REPLY_MAGIC);
    view.setUint32(4, error);
    reply.set(req.cookie, 8);
    this.transport.send(reply);
  }

  private afterCompletion(): void {
    if (this.phase === 'closing' || this.phase === 'closed') {
      this.settleIfIdle();
      return;
    }
    this.pump();
  }

  private waitForDrain(): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.transport.drained().then(
      () => {
        this.waitingForDrain = false;
        this.pump();
      },
      () => (this.waitingForDrain = false),
    );
  }

  private updateInputPause(): void {
    const shouldPause = this.phase === 'transmission' && (this.inFlight.size >= this.maxInFlight || this.waitingForDrain);
    if (shouldPause && !this.inputPaused) {
      this.inputPaused = true;
      this.transport.pauseInput?.();
    } else if (!shouldPause && this.inputPaused) {
      this.inputPaused = false;
      this.transport.resumeInput?.();
    }
  }

  // --- ending -------------------------------------------------------------

  /** NBD_CMD_DISC: finish what is executing, make writes durable, then close. */
  private disconnect(): void {
    this.phase = 'closing';
    this.end = { reason: 'disconnect' };
    this.input.clear();
    void Promise.allSettled([...this.inFlight]).then(async () => {
      if (this.writesDispatched > this.writesFlushed) await this.medium.flush().catch((e) => this.log(`flush on disconnect failed: ${(e as Error).message}`));
      this.closeTransport();
      this.settleIfIdle();
    });
  }

  /** We end the connection (bad input, NBD_OPT_ABORT, or close()). Replies of executing requests are dropped. */
  private hangUp(reason: ConnectionEnd['reason'], detail?: string): void {
    if (this.phase === 'closed') return;
    if (detail && reason === 'protocol') this.log(`closing: ${detail}`);
    this.end ??= detail === undefined ? { reason } : { reason, detail };
    this.closeTransport();
    this.settleIfIdle();
  }

  private finish(end: ConnectionEnd): void {
    this.end ??= end;
    this.phase = 'closed';
    this.input.clear();
    this.settleIfIdle();
  }

  private closeTransport(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.input.clear();
    this.updateInputPauseForClose();
    this.transport.close();
  }

  private updateInputPauseForClose(): void {
    if (this.inputPaused) {
      this.inputPaused = false;
      this.transport.resumeInput?.();
    }
  }

  private settleIfIdle(): void {
    if (this.phase !== 'closed' || this.inFlight.size > 0) return;
    this.resolveDone(this.end ?? { reason: 'peer' });
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
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

function withType(type: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + bytes.byteLength);
  be(out).setUint16(0, type);
  out.set(bytes, 2);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function decodeName(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 256));
}

/** NBD error value for a medium failure: ENOSPC for a full disk, EIO otherwise. */
function errnoOf(e: unknown): number {
  const code = (e as { code?: unknown })?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return P.ENOSPC;
  if (code === 'EPERM' || code === 'EACCES' || code === 'EROFS') return P.EPERM;
  return P.EIO;
}
