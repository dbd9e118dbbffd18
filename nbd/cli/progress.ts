// One progress line: bytes served, rate, reads per second (and writes).
import type { ServerStats } from '../core/server.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Rates over the last interval, totals since the start. */
export class Progress {
  private last: { at: number; bytes: number; reads: number; writes: number };
  constructor(
    private readonly stats: ServerStats,
    private readonly started = Date.now(),
  ) {
    this.last = { at: started, bytes: 0, reads: 0, writes: 0 };
  }

  /** Totals since the start, for the last line. */
  total(now = Date.now()): string {
    const s = this.stats;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    let text = `total: served ${formatBytes(s.bytesRead)} in ${seconds.toFixed(1)} s (${formatBytes(s.bytesRead / seconds)}/s), ${s.reads} reads`;
    if (s.writes > 0) text += `, written ${formatBytes(s.bytesWritten)} in ${s.writes} writes`;
    if (s.errors > 0) text += `, ${s.errors} errors`;
    return text;
  }

  line(now = Date.now()): string {
    const dt = Math.max(1, now - this.last.at) / 1000;
    const s = this.stats;
    const rate = (s.bytesRead + s.bytesWritten - this.last.bytes) / dt;
    const reads = (s.reads - this.last.reads) / dt;
    const writes = (s.writes - this.last.writes) / dt;
    this.last = { at: now, bytes: s.bytesRead + s.bytesWritten, reads: s.reads, writes: s.writes };
    const elapsed = Math.round((now - this.started) / 1000);
    let text = `served ${formatBytes(s.bytesRead)} in ${elapsed} s, ${formatBytes(rate)}/s, ${reads.toFixed(0)} reads/s`;
    if (s.writes > 0) text += `, written ${formatBytes(s.bytesWritten)}, ${writes.toFixed(0)} writes/s`;
    if (s.errors > 0) text += `, ${s.errors} errors`;
    return text;
  }
}
