// Checked access to the YAML tree of one file: "this must be a mapping with
// these keys", "this must be a string", each failure reported with the
// node's position and what was expected instead.

import type { SourcePos } from '../model.js';
import { show, type DiagnosticSink } from './diagnostics.js';
import { closest, identifierProblem } from './names.js';
import { TOLERATED_MISSPELT_KEYS } from './upstream-quirks.js';
import { positionOf, type LineIndex, type NodeBase, type YMap, type YMapEntry, type YNode, type YScalar } from './yaml-source.js';

/** A mapping whose keys were checked: look values up by key. */
export class CheckedMap {
  constructor(readonly node: YMap, private readonly values: Map<string, YMapEntry>) {}

  get(key: string): YNode | undefined {
    return this.values.get(key)?.value;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  keyNode(key: string): YNode | undefined {
    return this.values.get(key)?.keyNode;
  }
}

export class FileReader {
  constructor(readonly file: string, readonly sink: DiagnosticSink, private readonly lines?: LineIndex) {}

  /**
   * Report a problem at a character of a scalar's text (a type string, a
   * brace-list default). Exact when the scalar is written on one line without
   * escapes; otherwise at the scalar's start.
   */
  errorInScalar(node: YScalar, text: string, offset: number, message: string): void {
    let start: number | undefined;
    if (node.raw === text) start = node.offset;
    else if (node.style === 'quoted' && node.raw.slice(1, -1) === text) start = node.offset + 1;
    if (start === undefined || this.lines === undefined || text.includes('\n')) {
      this.error(node, message);
      return;
    }
    const { line, column } = positionOf(this.lines, start + offset);
    this.sink.error(this.file, line, column, message);
  }

  error(at: NodeBase, message: string): void {
    this.sink.error(this.file, at.line, at.column, message);
  }

  warning(at: NodeBase, message: string): void {
    this.sink.warning(this.file, at.line, at.column, message);
  }

  pos(at: NodeBase): SourcePos {
    return { file: this.file, line: at.line, column: at.column };
  }

  /**
   * Expect a mapping (`what` names it in messages, e.g. "a property") with
   * only the `allowed` keys, all `required` ones present.
   */
  map(node: YNode, what: string, allowed: readonly string[], required: readonly string[] = []): CheckedMap | undefined {
    if (node.kind !== 'map') {
      this.error(node, `expected ${what} as a mapping with keys ${allowed.join(', ')}, found ${describeNode(node)}`);
      return undefined;
    }
    const values = new Map<string, YMapEntry>();
    const tolerated = TOLERATED_MISSPELT_KEYS[what.replace(/^an? /, '')] ?? {};
    for (const entry of node.entries) {
      if (entry.keyIsString && allowed.includes(entry.key)) {
        values.set(entry.key, entry);
        continue;
      }
      const intended = entry.keyIsString ? tolerated[entry.key] : undefined;
      if (intended !== undefined) {
        this.warning(entry.keyNode, `key ${show(entry.key)} in ${what} is a misspelling of ${show(intended)} that upstream PDI contains and sdbus++ ignores; it is read as ${show(intended)}`);
        if (!values.has(intended)) values.set(intended, entry);
        continue;
      }
      const hint = entry.keyIsString ? closest(entry.key, allowed) : undefined;
      const keyDescription = entry.keyIsString ? show(entry.key) : `${show(entry.key)} (YAML 1.1 reads this unquoted key as ${describeNode(entry.keyNode)})`;
      this.error(
        entry.keyNode,
        `unknown key ${keyDescription} in ${what}${hint ? ` (did you mean ${show(hint)}?)` : ''}; allowed keys are ${allowed.join(', ')}`,
      );
    }
    for (const key of required) {
      if (!values.has(key)) this.error(node, `${what} is missing the required key ${show(key)}`);
    }
    return new CheckedMap(node, values);
  }

  /** Expect a list; a missing key reads as an empty list. */
  list(node: YNode | undefined, what: string): YNode[] {
    if (node === undefined) return [];
    if (node.kind !== 'seq') {
      this.error(node, `expected ${what} as a list, found ${describeNode(node)}`);
      return [];
    }
    return node.items;
  }

  /** Expect a string scalar. */
  string(node: YNode, what: string): string | undefined {
    if (node.kind === 'scalar' && node.value.kind === 'string') return node.value.value;
    this.error(node, `expected ${what} as a string, found ${describeNode(node)}${quoteHint(node)}`);
    return undefined;
  }

  /** An optional string value: missing reads as ''. */
  optionalString(map: CheckedMap, key: string, what: string): string {
    const node = map.get(key);
    if (node === undefined) return '';
    return this.string(node, what) ?? '';
  }

  /** A required identifier-like name (`what` e.g. "the property name"). */
  name(map: CheckedMap, key: string, what: string): { name: string; node: YNode } | undefined {
    const node = map.get(key);
    if (node === undefined) return undefined; // already reported as missing
    const name = this.string(node, what);
    if (name === undefined) return undefined;
    const problem = identifierProblem(name);
    if (problem) {
      this.error(node, `invalid ${what} ${show(name)}: ${problem}`);
      return undefined;
    }
    return { name, node };
  }

  /** A list of strings each from `allowed`. */
  flags<T extends string>(node: YNode | undefined, what: string, allowed: readonly T[]): T[] {
    const result: T[] = [];
    for (const item of this.list(node, `the flags of ${what}`)) {
      const flag = this.string(item, `a flag of ${what}`);
      if (flag === undefined) continue;
      if (!(allowed as readonly string[]).includes(flag)) {
        const hint = closest(flag, allowed);
        this.error(item, `unknown flag ${show(flag)} on ${what}${hint ? ` (did you mean ${show(hint)}?)` : ''}; allowed flags are ${allowed.join(', ')}`);
      } else if (result.includes(flag as T)) {
        this.error(item, `flag ${show(flag)} is given twice on ${what}`);
      } else {
        result.push(flag as T);
      }
    }
    return result;
  }
}

/** What a node is, for "found ..." in messages. */
export function describeNode(node: YNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  const v = node.value;
  switch (v.kind) {
    case 'string':
      return `the string ${show(v.value)}`;
    case 'bool':
      return `the boolean ${v.value}`;
    case 'int':
      return `the integer ${v.value}`;
    case 'float':
      return `the number ${node.raw}`;
    case 'null':
      return 'nothing (an empty value)';
    case 'timestamp':
      return `the date ${show(v.text)}`;
    case 'invalid':
      return `${show(v.text)}, which YAML cannot load (${v.reason})`;
  }
}

/** For values YAML 1.1 turned into something else than the author meant. */
export function quoteHint(node: YNode): string {
  if (node.kind !== 'scalar' || node.style !== 'plain') return '';
  const v = node.value.kind;
  if (v === 'bool' || v === 'int' || v === 'float' || v === 'timestamp' || v === 'null') {
    if (node.raw === '') return '';
    return ` (YAML 1.1 reads unquoted ${node.raw} as ${v === 'bool' ? 'a boolean' : v === 'null' ? 'null' : v === 'timestamp' ? 'a date' : 'a number'}; write "${node.raw}" to mean the text)`;
  }
  return '';
}
