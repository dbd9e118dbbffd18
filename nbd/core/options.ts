// The server's public types: what a caller configures, counts and learns
// about how a connection ended. The phases also share ConnectionLink, the
// part of the connection they may act on.
import type { ByteQueue } from './byte-queue.js';

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

/** The one export, as the handshake announces it and transmission enforces it. */
export interface ExportDescription {
  readonly size: number;
  readonly readOnly: boolean;
  /** UTF-8, at most 4096 bytes each. */
  readonly name: Uint8Array;
  readonly description: Uint8Array;
  /** NBD_FLAG_* sent in NBD_OPT_EXPORT_NAME / NBD_INFO_EXPORT. */
  readonly transmissionFlags: number;
}

/** What a phase (handshake, transmission) may do to the connection it runs in. */
export interface ConnectionLink {
  /** Received bytes not yet parsed. */
  readonly input: ByteQueue;
  /** True once the transport is closed: replies are dropped from then on. */
  readonly closed: boolean;
  send(bytes: Uint8Array): void;
  /** Ends the connection with no reply (bad input, NBD_OPT_ABORT). */
  hangUp(reason: ConnectionEnd['reason'], detail?: string): void;
  log(line: string): void;
}
