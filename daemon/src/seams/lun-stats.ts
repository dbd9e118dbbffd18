// Seam: the per-LUN I/O counters our kernel patch adds to mass storage
// (configfs functions/mass_storage.*/lun.N/stats, lines "name value").
// Upstream kernels have no such file: then there are no counters and the
// caller disables the inactivity timeout.
import { readFileSync } from 'node:fs';

export interface LunStats {
  readonly readCommands: bigint;
  readonly writeCommands: bigint;
  readonly bytesRead: bigint;
  readonly bytesWritten: bigint;
  readonly ioErrors: bigint;
}

const FIELDS: Record<string, keyof LunStats> = {
  read_commands: 'readCommands',
  write_commands: 'writeCommands',
  bytes_read: 'bytesRead',
  bytes_written: 'bytesWritten',
  io_errors: 'ioErrors',
};

/** Parses the file's text; unknown names (a newer kernel) and malformed lines are ignored. */
export function parseLunStats(text: string): LunStats {
  const out: Record<keyof LunStats, bigint> = { readCommands: 0n, writeCommands: 0n, bytesRead: 0n, bytesWritten: 0n, ioErrors: 0n };
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s+([0-9]{1,20})\s*$/.exec(line);
    if (!m) continue;
    const field = FIELDS[m[1]!];
    const value = BigInt(m[2]!);
    if (field && value < 2n ** 64n) out[field] = value;
  }
  return out;
}

/** The counters, or undefined when the kernel has no stats file. */
export function readLunStats(path: string): LunStats | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseLunStats(text);
}
