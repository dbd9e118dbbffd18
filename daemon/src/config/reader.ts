// Typed field access on untrusted JSON that records one problem per bad
// field (with its key path) instead of stopping at the first one, so an
// operator fixes a config in one go.

export interface Problem {
  readonly path: string;
  readonly reason: string;
}

export class FieldReader {
  readonly problems: Problem[] = [];

  problem(path: string, reason: string): void {
    this.problems.push({ path, reason });
  }

  isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  /** Reports keys of `obj` that are not in `known` (typos would otherwise be ignored silently). */
  onlyKnownKeys(obj: Record<string, unknown>, known: readonly string[], path: string): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) this.problem(join(path, key), `unknown key (known keys: ${known.join(', ')})`);
    }
  }

  integer(obj: Record<string, unknown>, key: string, path: string, min: number, max: number, fallback: number): number {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.problem(join(path, key), `must be an integer, got ${describe(value)}`);
      return fallback;
    }
    if (value < min || value > max) {
      this.problem(join(path, key), `must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  }

  string(obj: Record<string, unknown>, key: string, path: string, fallback: string): string {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string') {
      this.problem(join(path, key), `must be a string, got ${describe(value)}`);
      return fallback;
    }
    if (value.includes('\0')) {
      this.problem(join(path, key), 'must not contain NUL characters');
      return fallback;
    }
    return value;
  }

  optionalString(obj: Record<string, unknown>, key: string, path: string): string | undefined {
    if (obj[key] === undefined || obj[key] === null) return undefined;
    const value = this.string(obj, key, path, '');
    return value === '' ? undefined : value;
  }

  absolutePath(obj: Record<string, unknown>, key: string, path: string, fallback: string): string {
    const value = this.string(obj, key, path, fallback);
    if (!value.startsWith('/')) {
      this.problem(join(path, key), `must be an absolute path, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  stringList(obj: Record<string, unknown>, key: string, path: string, fallback: readonly string[], itemPattern: RegExp): readonly string[] {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) {
      this.problem(join(path, key), `must be an array of strings, got ${describe(value)}`);
      return fallback;
    }
    const out: string[] = [];
    value.forEach((item, i) => {
      if (typeof item !== 'string' || !itemPattern.test(item)) this.problem(`${join(path, key)}[${i}]`, `must match ${itemPattern}, got ${describe(item)}`);
      else out.push(item);
    });
    return out;
  }

  section(obj: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
    const value = obj[key];
    if (value === undefined) return {};
    if (!this.isObject(value)) {
      this.problem(join(path, key), `must be an object, got ${describe(value)}`);
      return {};
    }
    return value;
  }
}

/** `a.b` for plain keys; odd keys (empty, dots, spaces) quoted so the path stays unambiguous. */
export function join(path: string, key: string): string {
  const k = /^[A-Za-z0-9_]+$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${k}` : k;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
