// Collects problems found while reading a YAML tree. Loading never stops at
// the first problem and never throws on bad input: every check reports here
// and carries on with whatever part of the input still makes sense.

import type { Diagnostic } from '../model.js';

export class DiagnosticSink {
  readonly errors: Diagnostic[] = [];
  /** Things sdbus++ accepts silently but that are probably mistakes. */
  readonly warnings: Diagnostic[] = [];

  error(file: string, line: number, column: number, message: string): void {
    this.errors.push({ file, line, column, message });
  }

  warning(file: string, line: number, column: number, message: string): void {
    this.warnings.push({ file, line, column, message });
  }
}

/** Quote a value for a message, keeping the message on one line and short. */
export function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'bigint') text = value.toString();
  else if (value === null || value === undefined) text = 'null';
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** "a, b or c" */
export function listWords(words: readonly string[]): string {
  if (words.length === 0) return '(none)';
  if (words.length === 1) return words[0]!;
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
