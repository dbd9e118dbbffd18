// An in-memory transport and a medium that records any access outside its
// bounds: the core driven directly, for protocol and fuzz tests.
import { MemoryMedium, type Transport } from '../../../nbd/core/index.js';
import { concat } from './wire.js';

export class MemoryPipe implements Transport {
  readonly chunks: Uint8Array[] = [];
  closed = false;
  sendsAfterClose = 0;
  paused = false;
  pauses = 0;
  bufferedAmount = 0;
  send(bytes: Uint8Array): void {
    if (this.closed) this.sendsAfterClose++;
    else this.chunks.push(bytes.slice());
  }
  close(): void {
    this.closed = true;
  }
  async drained(): Promise<void> {}
  pauseInput(): void {
    this.paused = true;
    this.pauses++;
  }
  resumeInput(): void {
    this.paused = false;
  }
  output(): Uint8Array {
    return concat(this.chunks);
  }
}

export class CheckedMedium extends MemoryMedium {
  readonly violations: string[] = [];
  flushes = 0;
  /** Milliseconds each read waits (to keep requests in flight). */
  delayMs = 0;
  private check(what: string, offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.size) this.violations.push(`${what} at ${offset}+${length} of ${this.size}`);
  }
  override async read(offset: number, into: Uint8Array): Promise<void> {
    this.check('read', offset, into.byteLength);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    return super.read(offset, into);
  }
  override async write(offset: number, data: Uint8Array): Promise<void> {
    this.check('write', offset, data.byteLength);
    return super.write(offset, data);
  }
  override async flush(): Promise<void> {
    this.flushes++;
  }
}

/** Lets pending promise callbacks and timers of `ms` run. */
export const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));
