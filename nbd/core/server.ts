// One NBD server connection. Transport-agnostic: bytes come in through
// receive(), go out through a Transport. This file owns the connection's
// life (phases, the parse loop, input pausing, how it ends); the phases
// themselves are handshake.ts (flags and option haggling) and
// transmission.ts (requests), on the shared layouts of framing.ts.
// Every malformed input gets an error reply where the protocol has one, a
// hard disconnect (close) where it has none; never an exception out of
// receive(), never a read outside the medium.
import { ByteQueue } from './byte-queue.js';
import { greeting } from './framing.js';
import { Handshake } from './handshake.js';
import type { Medium } from './medium.js';
import type { ConnectionEnd, ConnectionLink, ExportDescription, ServerOptions, ServerStats } from './options.js';
import * as P from './protocol.js';
import { Transmission } from './transmission.js';
import type { Transport } from './transport.js';

export type { ConnectionEnd, ExportOptions, ServerOptions, ServerStats } from './options.js';

type Phase = 'handshake' | 'transmission' | 'closing' | 'closed';

export class NbdServerConnection {
  readonly stats: ServerStats;
  /** Resolves once the connection is closed and no request is still executing. */
  readonly done: Promise<ConnectionEnd>;

  private phase: Phase = 'handshake';
  private readonly input = new ByteQueue();
  private readonly exported: ExportDescription;
  private readonly inputLimit: number;
  private readonly handshake: Handshake;
  private readonly transmission: Transmission;
  private inputPaused = false;
  private pumping = false;
  private end: ConnectionEnd | undefined;
  private resolveDone!: (end: ConnectionEnd) => void;

  constructor(
    medium: Medium,
    private readonly transport: Transport,
    private readonly options: ServerOptions = {},
  ) {
    if (!Number.isSafeInteger(medium.size) || medium.size < 0) throw new RangeError(`medium size ${medium.size} is not a byte count`);
    const readOnly = options.readOnly === true || !medium.writable;
    const encoder = new TextEncoder();
    const name = encoder.encode(options.name ?? '');
    const description = encoder.encode(options.description ?? '');
    if (name.byteLength > P.MAX_STRING) throw new RangeError('export name longer than 4096 bytes');
    if (description.byteLength > P.MAX_STRING) throw new RangeError('export description longer than 4096 bytes');
    this.exported = { size: medium.size, readOnly, name, description, transmissionFlags: transmissionFlags(readOnly) };
    this.inputLimit = options.inputLimit ?? 4 * P.MAX_PAYLOAD;
    const link = this.link();
    this.handshake = new Handshake(link, this.exported);
    this.transmission = new Transmission(
      link,
      transport,
      medium,
      this.exported,
      {
        maxInFlight: Math.max(1, options.maxInFlight ?? 16),
        outputHighWater: options.outputHighWater ?? 8 * 1024 * 1024,
        allocate: options.allocate ?? ((size) => new Uint8Array(size)),
      },
      { disconnect: () => this.disconnect(), completed: () => this.afterCompletion(), drained: () => this.pump() },
    );
    this.stats = this.transmission.stats;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Transmission flags of the export (NBD_OPT_EXPORT_NAME / NBD_INFO_EXPORT). */
  get transmissionFlags(): number {
    return this.exported.transmissionFlags;
  }

  /** Sends the server's greeting. Call once, when the transport is open. */
  start(): void {
    this.transport.send(greeting());
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

  /** The part of this connection the phases act on. */
  private link(): ConnectionLink {
    const self = this;
    return {
      input: this.input,
      get closed() {
        return self.phase === 'closed';
      },
      send: (bytes) => this.transport.send(bytes),
      hangUp: (reason, detail) => this.hangUp(reason, detail),
      log: (line) => this.options.log?.(line),
    };
  }

  // --- the parse loop -----------------------------------------------------

  private pump(): void {
    if (this.pumping) return; // re-entered from a synchronous send or completion
    this.pumping = true;
    try {
      while (this.phase === 'handshake' || this.phase === 'transmission') {
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
    if (this.phase === 'transmission') return this.transmission.step();
    const progressed = this.handshake.step();
    if (this.handshake.exportChosen && this.phase === 'handshake') this.phase = 'transmission';
    return progressed;
  }

  private afterCompletion(): void {
    if (this.phase === 'closing' || this.phase === 'closed') {
      this.settleIfIdle();
      return;
    }
    this.pump();
  }

  private updateInputPause(): void {
    const shouldPause = this.phase === 'transmission' && this.transmission.saturated;
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
    void this.transmission.settled().then(async () => {
      await this.transmission.finalFlush().catch((e) => this.options.log?.(`flush on disconnect failed: ${(e as Error).message}`));
      this.closeTransport();
      this.settleIfIdle();
    });
  }

  /** We end the connection (bad input, NBD_OPT_ABORT, or close()). Replies of executing requests are dropped. */
  private hangUp(reason: ConnectionEnd['reason'], detail?: string): void {
    if (this.phase === 'closed') return;
    if (detail && reason === 'protocol') this.options.log?.(`closing: ${detail}`);
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
    if (this.inputPaused) {
      this.inputPaused = false;
      this.transport.resumeInput?.();
    }
    this.transport.close();
  }

  private settleIfIdle(): void {
    if (this.phase !== 'closed' || this.transmission.executing > 0) return;
    this.resolveDone(this.end ?? { reason: 'peer' });
  }
}

function transmissionFlags(readOnly: boolean): number {
  if (readOnly) return P.FLAG_HAS_FLAGS | P.FLAG_READ_ONLY;
  return P.FLAG_HAS_FLAGS | P.FLAG_SEND_FLUSH | P.FLAG_SEND_FUA | P.FLAG_SEND_TRIM | P.FLAG_SEND_WRITE_ZEROES;
}
