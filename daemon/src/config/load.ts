// Reads the config file; a missing or unreadable file is a problem like any other.
import { readFileSync } from 'node:fs';
import { parseConfig, type Overrides, type ParseResult } from './parse.js';

export function loadConfig(file: string, overrides: Overrides = {}): ParseResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, problems: [{ path: '(file)', reason: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }] };
  }
  return parseConfig(text, overrides);
}
