// Reads one YAML file into a small tree of maps, sequences and resolved
// scalars that remembers where every node was written. Syntax errors come from
// the `yaml` package (with positions); scalar meaning follows PyYAML (see
// scalars.ts).

import { readFileSync } from 'node:fs';
import { Alias, Document, isAlias, isMap, isScalar, isSeq, parseAllDocuments, Scalar } from 'yaml';
import type { DiagnosticSink } from './diagnostics.js';
import { resolvePlainScalar, resolveTaggedScalar, type ScalarValue } from './scalars.js';

export interface NodeBase {
  line: number;
  column: number;
}

export interface YScalar extends NodeBase {
  kind: 'scalar';
  value: ScalarValue;
  style: 'plain' | 'quoted' | 'block';
  /** Offset of the scalar's first character (the quote, for quoted ones). */
  offset: number;
  /** The scalar exactly as written in the file (including quotes). */
  raw: string;
}

export interface YMapEntry {
  /** The key as a string; non-string keys (`on:` is a boolean in YAML 1.1) are kept as their display form. */
  key: string;
  keyIsString: boolean;
  keyNode: YNode;
  value: YNode;
}

export interface YMap extends NodeBase {
  kind: 'map';
  entries: YMapEntry[];
}

export interface YSeq extends NodeBase {
  kind: 'seq';
  items: YNode[];
}

export type YNode = YScalar | YMap | YSeq;

/** A YAML file read from disk: its tree (if it parsed) and how to turn offsets into positions. */
export interface SourceFile {
  file: string;
  text: string;
  lines: LineIndex;
  /** Undefined when the file could not be read or had syntax errors. */
  root?: YNode;
}

/** Nodes converted per file, aliases included; bounds alias bombs. */
const NODE_BUDGET = 200_000;

/**
 * Offsets -> 1-based line and column. Our own rather than the yaml package's
 * LineCounter, which misses line breaks in some malformed inputs. Line breaks
 * are YAML's (and editors'): LF, CR LF, and a CR alone.
 */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (const m of text.matchAll(/\r\n?|\n/g)) this.starts.push(m.index + m[0].length);
  }

  position(offset: number): { line: number; column: number } {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: Math.max(0, offset - this.starts[low]!) + 1 };
  }
}

export function positionOf(lines: LineIndex, offset: number): { line: number; column: number } {
  return lines.position(offset);
}

export function readYamlFile(file: string, sink: DiagnosticSink): SourceFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    sink.error(file, 1, 1, `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return { file, text: '', lines: new LineIndex('') };
  }
  return parseYamlText(file, text, sink);
}

export function parseYamlText(file: string, text: string, sink: DiagnosticSink): SourceFile {
  // Editors do not count a byte-order mark as a column.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines = new LineIndex(text);
  const source: SourceFile = { file, text, lines };
  const docs = parseAllDocuments(text, {
    version: '1.1',
    schema: 'failsafe',
    merge: false,
    prettyErrors: false,
    uniqueKeys: true,
  });
  // parseAllDocuments returns an EmptyStream (no documents) for empty input.
  const list = Array.isArray(docs) ? docs : [];
  let failed = false;
  for (const doc of list) {
    for (const err of doc.errors) {
      const { line, column } = positionOf(lines, err.pos[0]);
      sink.error(file, line, column, `YAML syntax error: ${firstLine(err.message)}`);
      failed = true;
    }
  }
  if (list.length > 1) {
    const { line, column } = positionOf(lines, list[1]!.range[0]);
    sink.error(file, line, column, 'expected a single YAML document, found more than one (sdbus++ reads exactly one)');
    failed = true;
  }
  if (failed) return source;
  const doc = list[0];
  if (!doc || doc.contents === null) {
    source.root = nullScalar(lines, doc ? doc.range[0] : 0);
    return source;
  }
  const converter = new Converter(doc, text, lines, file, sink);
  source.root = converter.convert(doc.contents);
  if (converter.failed) delete source.root;
  return source;
}

function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  // The yaml package appends " at line L, column C"; we report the position ourselves.
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

function nullScalar(lines: LineIndex, offset: number): YScalar {
  const { line, column } = positionOf(lines, offset);
  return { kind: 'scalar', value: { kind: 'null' }, style: 'plain', offset, raw: '', line, column };
}

class Converter {
  failed = false;
  private budget = NODE_BUDGET;
  private readonly resolving = new Set<unknown>();

  constructor(
    private readonly doc: Document.Parsed,
    private readonly text: string,
    private readonly lines: LineIndex,
    private readonly file: string,
    private readonly sink: DiagnosticSink,
  ) {}

  convert(node: unknown, fallbackOffset = 0): YNode {
    if (--this.budget < 0) {
      if (this.budget === -1) {
        this.fail(fallbackOffset, `the document expands to more than ${NODE_BUDGET} nodes through aliases`);
      }
      return nullScalar(this.lines, fallbackOffset);
    }
    if (node === null || node === undefined) return nullScalar(this.lines, fallbackOffset);
    if (isAlias(node)) return this.convertAlias(node);
    const start = (node as { range?: [number, number, number] }).range?.[0] ?? fallbackOffset;
    const { line, column } = positionOf(this.lines, start);
    if (isScalar(node)) return this.convertScalar(node, start, line, column);
    if (isSeq(node)) {
      const items = node.items.map((item) => this.convert(item, start));
      return { kind: 'seq', items, line, column };
    }
    if (isMap(node)) return this.convertMap(node.items, start, line, column);
    this.fail(start, 'unsupported YAML node');
    return nullScalar(this.lines, start);
  }

  private convertAlias(alias: Alias): YNode {
    const start = alias.range?.[0] ?? 0;
    const target = alias.resolve(this.doc);
    if (!target) {
      this.fail(start, `unknown YAML alias *${alias.source}`);
      return nullScalar(this.lines, start);
    }
    if (this.resolving.has(target)) {
      this.fail(start, `YAML alias *${alias.source} refers to a node that contains it`);
      return nullScalar(this.lines, start);
    }
    this.resolving.add(target);
    try {
      return this.convert(target, start);
    } finally {
      this.resolving.delete(target);
    }
  }

  private convertScalar(node: Scalar, offset: number, line: number, column: number): YScalar {
    const text = String(node.value ?? '');
    const raw = this.sourceText(node);
    const tag = node.tag;
    let style: YScalar['style'];
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') style = 'quoted';
    else if (node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL') style = 'block';
    else style = 'plain';
    let value: ScalarValue;
    if (tag && tag !== '!') value = resolveTaggedScalar(tag, text);
    else if (style === 'plain' && tag !== '!') value = resolvePlainScalar(text);
    else value = { kind: 'string', value: text };
    return { kind: 'scalar', value, style, offset, raw, line, column };
  }

  private convertMap(pairs: readonly { key: unknown; value: unknown }[], start: number, line: number, column: number): YMap {
    const explicit: YMapEntry[] = [];
    const merged: YMapEntry[] = [];
    for (const pair of pairs) {
      const keyNode = this.convert(pair.key, start);
      const keyEnd = (pair.key as { range?: number[] } | null)?.range?.[1] ?? start;
      const value = this.convert(pair.value, keyEnd);
      if (keyNode.kind === 'scalar' && keyNode.style === 'plain' && keyNode.raw === '<<') {
        this.mergeInto(merged, value);
        continue;
      }
      const { key, keyIsString } = keyText(keyNode);
      explicit.push({ key, keyIsString, keyNode, value });
    }
    // Explicit keys override merged ones, as in PyYAML.
    const explicitKeys = new Set(explicit.map((e) => e.key));
    const entries = merged.filter((e) => !explicitKeys.has(e.key)).concat(explicit);
    return { kind: 'map', entries, line, column };
  }

  private mergeInto(merged: YMapEntry[], value: YNode): void {
    const sources = value.kind === 'seq' ? value.items : [value];
    // Earlier maps in a merge sequence win over later ones.
    for (const source of sources) {
      if (source.kind !== 'map') {
        this.failAt(source, 'a YAML merge key (<<) needs a mapping or a list of mappings');
        continue;
      }
      for (const entry of source.entries) {
        if (!merged.some((m) => m.key === entry.key)) merged.push(entry);
      }
    }
  }

  private sourceText(node: Scalar): string {
    const range = node.range;
    return range ? this.text.slice(range[0], range[1]) : '';
  }

  private fail(offset: number, message: string): void {
    const { line, column } = positionOf(this.lines, offset);
    this.sink.error(this.file, line, column, message);
    this.failed = true;
  }

  private failAt(node: YNode, message: string): void {
    this.sink.error(this.file, node.line, node.column, message);
    this.failed = true;
  }
}

function keyText(node: YNode): { key: string; keyIsString: boolean } {
  if (node.kind !== 'scalar') return { key: node.kind === 'map' ? '{...}' : '[...]', keyIsString: false };
  const v = node.value;
  switch (v.kind) {
    case 'string':
      return { key: v.value, keyIsString: true };
    case 'bool':
    case 'int':
    case 'float':
      return { key: node.raw, keyIsString: false };
    case 'null':
      return { key: node.raw || '(empty)', keyIsString: false };
    default:
      return { key: node.raw, keyIsString: false };
  }
}
