// Unix fds received in a method call: sd-bus closes them when the message is
// freed, so handlers must use (or reopen) them before they return. We do the
// same, because dbus-next never closes them and they would leak.
import { closeSync } from 'node:fs';

/** Reads one complete type from `sig` at `pos`; returns the end position. */
function typeEnd(sig: string, pos: number): number {
  const c = sig[pos];
  if (c === 'a') return typeEnd(sig, pos + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let p = pos + 1;
    while (sig[p] !== close) p = typeEnd(sig, p);
    return p + 1;
  }
  return pos + 1;
}

function splitSignature(sig: string): string[] {
  const types: string[] = [];
  for (let p = 0; p < sig.length; ) {
    const end = typeEnd(sig, p);
    types.push(sig.slice(p, end));
    p = end;
  }
  return types;
}

function collect(sig: string, value: unknown, out: number[]): void {
  if (!sig.includes('h') && !sig.includes('v')) return;
  if (sig === 'h') {
    if (typeof value === 'number') out.push(value);
  } else if (sig === 'v') {
    const v = value as { signature?: string; value?: unknown };
    if (v && typeof v.signature === 'string') collect(v.signature, v.value, out);
  } else if (sig.startsWith('a{')) {
    const [k, v] = splitSignature(sig.slice(2, -1));
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'h') out.push(Number(key));
      collect(v!, item, out);
    }
  } else if (sig.startsWith('a')) {
    for (const item of value as unknown[]) collect(sig.slice(1), item, out);
  } else if (sig.startsWith('(')) {
    splitSignature(sig.slice(1, -1)).forEach((s, i) => collect(s, (value as unknown[])[i], out));
  }
}

/** Every fd number carried in a message body of signature `signature`. */
export function fdsInBody(signature: string, body: readonly unknown[]): number[] {
  const out: number[] = [];
  splitSignature(signature).forEach((s, i) => collect(s, body[i], out));
  return out;
}

export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed by the handler: fine
    }
  }
}
