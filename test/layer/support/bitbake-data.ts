// A model of BitBake's datastore, for reading what a recipe plus its appends
// really sets without running bitbake: the statement forms of BitBake's own
// parser (bb/parse: logical lines, `VAR[:op[:override]][flag] op "value"`,
// require/include/inherit, shell functions) and DataSmart's rules (=, ?=,
// ??= weak defaults, :=, +=, =+, .=, =., :append/:prepend/:remove applied
// at read time after every assignment, conditional overrides, keys holding
// ${PN} renamed when parsing ends, ${VAR} expansion that leaves unknown names
// as written). Inline python is limited to bb.utils.contains(); anything else
// it cannot follow throws, so a recipe change the tests do not understand
// fails loudly instead of being read differently from bitbake.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

type OpKind = 'append' | 'prepend' | 'remove';

interface Op {
  readonly kind: OpKind;
  readonly value: string;
  /** Overrides that must all be active (`EXTRA_OEMESON:append:pn-foo`). */
  readonly when: readonly string[];
}

interface Entry {
  value?: string;
  /** `??=`: used only when nothing else set the variable. */
  weak?: string;
  readonly flags: Map<string, string>;
  readonly ops: Op[];
}

/** Classes a recipe inherits, by name, as BitBake text (stand-ins for the real ones). */
export type ClassTexts = Readonly<Record<string, string>>;

// BitBake's patterns (bb/parse/parse_py/ConfHandler.py, BBHandler.py, bb/data_smart.py).
const ASSIGNMENT = /^(export\s+)?([a-zA-Z0-9\-_+.${}/~:]+?)(?:\[([a-zA-Z0-9\-_+.][a-zA-Z0-9\-_+.@/]*)\])?\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*(["'])(.*)\5\s*$/;
const KEY_OPERATION = /^(.*?)(:append|:prepend|:remove)(?::([^A-Z]*))?$/;
const SHELL_FUNCTION = /^([\w.\-+${}:]+)\s*\(\s*\)\s*\{\s*$/;
const INCLUDE = /^(include|require)\s+(.+?)\s*$/;
const INHERIT = /^inherit\s+(.+?)\s*$/;
const VAR_REF = /\$\{[a-zA-Z0-9\-_+./~:]+?\}/g;
const PYTHON_REF = /\$\{@(?:\{.*?\}|.)+?\}/g;
const CONTAINS = /^bb\.utils\.contains\(\s*(['"])(.*?)\1\s*,\s*(['"])(.*?)\3\s*,\s*(['"])(.*?)\5\s*,\s*(['"])(.*?)\7\s*,\s*d\s*\)$/;

/** Lines as BitBake's parser feeds them: backslash continuations joined (the backslash dropped, nothing added). */
export function bitbakeLines(text: string): { line: string; lineno: number }[] {
  const out: { line: string; lineno: number }[] = [];
  let residue = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const s = raw.replace(/\s+$/, '');
    if (residue === '') start = i + 1;
    if (s.endsWith('\\')) {
      residue += s.slice(0, -1);
      return;
    }
    out.push({ line: residue + s, lineno: start });
    residue = '';
  });
  if (residue) out.push({ line: residue, lineno: start });
  return out;
}

export class BitbakeData {
  private readonly entries = new Map<string, Entry>();
  private readonly inherited = new Set<string>();
  /** `${NAME}` references that nothing defined, left as written (as bitbake does). */
  readonly unexpanded = new Set<string>();

  /**
   * @param overrides active OVERRIDES, lowest priority first (e.g. ['arm', 'pn-bmcweb'])
   * @param classes texts of the classes `inherit` may name
   */
  constructor(
    private readonly overrides: readonly string[] = [],
    private readonly classes: ClassTexts = {},
  ) {}

  /** Parses BitBake text as the file `path` (FILE and THISDIR point at it while it is read). */
  parse(path: string, text = readFileSync(path, 'utf8')): this {
    const outer = this.entries.get('FILE')?.value;
    this.entries.set('FILE', { value: path, flags: new Map(), ops: [] });
    try {
      const lines = bitbakeLines(text);
      for (let i = 0; i < lines.length; i++) {
        const { line, lineno } = lines[i]!;
        const where = `${path}:${lineno}`;
        const s = line.trim();
        if (s === '' || s.startsWith('#')) continue;
        const fn = SHELL_FUNCTION.exec(s);
        if (fn) {
          const body: string[] = [];
          while (++i < lines.length && lines[i]!.line !== '}') body.push(lines[i]!.line);
          if (i >= lines.length) throw new Error(`${where}: shell function ${fn[1]} is not closed`);
          this.assign(fn[1]!, '=', body.join('\n') + '\n');
          continue;
        }
        const inc = INCLUDE.exec(s);
        if (inc) {
          this.include(path, inc[2]!, inc[1] === 'require', where);
          continue;
        }
        const inh = INHERIT.exec(s);
        if (inh) {
          for (const name of this.expand(inh[1]!).split(/\s+/).filter(Boolean)) this.inherit(name, where);
          continue;
        }
        const a = ASSIGNMENT.exec(s);
        if (a) {
          this.assign(a[2]!, a[4]!, a[6]!, a[3]);
          continue;
        }
        throw new Error(`${where}: a statement this model does not follow: ${s}`);
      }
    } finally {
      if (outer === undefined) this.entries.delete('FILE');
      else this.entries.set('FILE', { value: outer, flags: new Map(), ops: [] });
    }
    return this;
  }

  /** What BitBake does once a recipe and its appends are parsed: keys holding ${...} get their final names. */
  finish(): this {
    for (const key of [...this.entries.keys()]) {
      if (!key.includes('${')) continue;
      const entry = this.entries.get(key)!;
      this.entries.delete(key);
      const name = this.expand(key);
      const target = this.entry(name);
      if (entry.value !== undefined) target.value = entry.value;
      if (entry.weak !== undefined && target.weak === undefined) target.weak = entry.weak;
      for (const [f, v] of entry.flags) target.flags.set(f, v);
      target.ops.push(...entry.ops);
    }
    return this;
  }

  /** Names of every variable (after finish(): final names). */
  names(): string[] {
    return [...this.entries.keys()].filter((k) => k !== 'FILE').sort();
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  /** The value as getVar(name) gives it: overrides, appends and prepends applied, expanded, removes applied. */
  get(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    const value = this.expand(raw);
    const removes = this.activeOps(name, 'remove').flatMap((v) => this.expand(v).split(/\s+/).filter(Boolean));
    if (removes.length === 0) return value;
    const drop = new Set(removes);
    return value
      .split(/(\s+)/)
      .filter((w) => !drop.has(w))
      .join('');
  }

  /** get(), as a word list. */
  words(name: string): string[] {
    return (this.get(name) ?? '').split(/\s+/).filter(Boolean);
  }

  /** A variable flag, expanded (`PACKAGECONFIG[kvm]`, `SRC_URI[sha256sum]`). */
  flag(name: string, flag: string): string | undefined {
    const v = this.lookup(name)?.flags.get(flag);
    return v === undefined ? undefined : this.expand(v);
  }

  flagNames(name: string): string[] {
    return [...(this.lookup(name)?.flags.keys() ?? [])];
  }

  /** The value before expansion, with appends and prepends applied (getVar(name, False)). */
  raw(name: string): string | undefined {
    const entry = this.lookup(name);
    let value = entry?.value ?? entry?.weak;
    const appends = this.activeOps(name, 'append');
    const prepends = this.activeOps(name, 'prepend');
    if (value === undefined && appends.length === 0 && prepends.length === 0) return undefined;
    value = prepends.reduceRight((v, p) => p + v, value ?? '');
    return appends.reduce((v, a) => v + a, value);
  }

  /** Sets a variable the way a conf file would (`NAME = "value"`). */
  set(name: string, value: string): this {
    this.assign(name, '=', value);
    return this;
  }

  expand(value: string, depth = 0): string {
    let s = value;
    for (let round = 0; s.includes('${'); round++) {
      if (round > 50 || depth > 50) throw new Error(`expansion does not end: ${value}`);
      const before = s;
      s = s.replace(VAR_REF, (ref) => {
        const name = ref.slice(2, -1);
        const v = this.derived(name) ?? this.raw(name);
        if (v === undefined) {
          this.unexpanded.add(name);
          return ref;
        }
        return this.expand(v, depth + 1);
      });
      s = s.replace(PYTHON_REF, (ref) => this.python(ref.slice(3, -1)));
      if (s === before) break;
    }
    return s;
  }

  private python(code: string): string {
    const m = CONTAINS.exec(code.trim());
    if (!m) throw new Error(`inline python this model does not follow: \${@${code}}`);
    const [, , variable, , check, , yes, , no] = m;
    const have = new Set(this.words(variable!));
    const wanted = check!.split(/\s+/).filter(Boolean);
    return have.size > 0 && wanted.every((w) => have.has(w)) ? yes! : no!;
  }

  /** Variables bitbake.conf computes from others. */
  private derived(name: string): string | undefined {
    if (name === 'THISDIR') {
      const file = this.entries.get('FILE')?.value;
      return file === undefined ? undefined : dirname(file);
    }
    return undefined;
  }

  private include(from: string, spec: string, required: boolean, where: string): void {
    for (const name of this.expand(spec).split(/\s+/).filter(Boolean)) {
      if (name.includes('${')) throw new Error(`${where}: cannot resolve ${name}`);
      const path = isAbsolute(name) ? name : join(dirname(from), name);
      if (!existsSync(path)) {
        if (required) throw new Error(`${where}: could not require ${name}`);
        continue;
      }
      this.parse(path);
    }
  }

  private inherit(name: string, where: string): void {
    if (this.inherited.has(name)) return;
    const text = this.classes[name];
    if (text === undefined) throw new Error(`${where}: inherits ${name}, which the test gives no stand-in for`);
    this.inherited.add(name);
    this.parse(`classes/${name}.bbclass`, text);
  }

  private assign(key: string, op: string, value: string, flag?: string): void {
    if (op === '??=') {
      const entry = this.entry(key);
      if (flag) {
        if (!entry.flags.has(flag)) entry.flags.set(flag, value);
      } else entry.weak = value;
      return;
    }
    const current = (): string | undefined => (flag ? this.entries.get(key)?.flags.get(flag) : this.entries.get(key)?.value);
    let v: string;
    switch (op) {
      case '?=':
        v = current() ?? value;
        break;
      case ':=':
        v = this.expand(value);
        break;
      case '+=':
        v = `${current() ?? ''} ${value}`;
        break;
      case '=+':
        v = `${value} ${current() ?? ''}`;
        break;
      case '.=':
        v = `${current() ?? ''}${value}`;
        break;
      case '=.':
        v = `${value}${current() ?? ''}`;
        break;
      default:
        v = value;
    }
    if (flag) {
      this.entry(key).flags.set(flag, v);
      return;
    }
    const m = KEY_OPERATION.exec(key);
    if (m) {
      this.entry(m[1]!).ops.push({ kind: m[2]!.slice(1) as OpKind, value: v, when: m[3] ? m[3].split(':') : [] });
      return;
    }
    this.entry(key).value = v;
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { flags: new Map(), ops: [] }));
    return e;
  }

  /** The entry getVar reads: the highest-priority active `NAME:override` if there is one, else NAME. */
  private lookup(name: string): Entry | undefined {
    let best: { entry: Entry; rank: number } | undefined;
    for (const [key, entry] of this.entries) {
      if (!key.startsWith(`${name}:`) || entry.value === undefined) continue;
      const conditions = key.slice(name.length + 1).split(':');
      if (!conditions.every((c) => this.overrides.includes(c))) continue;
      const rank = Math.max(...conditions.map((c) => this.overrides.indexOf(c)));
      if (!best || rank >= best.rank) best = { entry, rank };
    }
    return best?.entry ?? this.entries.get(name);
  }

  private activeOps(name: string, kind: OpKind): string[] {
    const entry = this.entries.get(name);
    return (entry?.ops ?? []).filter((o) => o.kind === kind && o.when.every((c) => this.overrides.includes(c))).map((o) => o.value);
  }
}

/**
 * What base.bbclass does with PACKAGECONFIG: each flag `PACKAGECONFIG[x] =
 * "enable,disable,depends,rdepends,..."` contributes its first field when x
 * is in PACKAGECONFIG and its second otherwise, to PACKAGECONFIG_CONFARGS.
 */
export function applyPackageconfig(d: BitbakeData): void {
  const enabled = new Set(d.words('PACKAGECONFIG'));
  const args: string[] = [];
  for (const name of d.flagNames('PACKAGECONFIG')) {
    if (name === 'doc' || name.startsWith('_')) continue;
    const fields = (d.flag('PACKAGECONFIG', name) ?? '').split(',');
    const arg = enabled.has(name) ? fields[0] : fields[1];
    if (arg?.trim()) args.push(arg.trim());
  }
  d.set('PACKAGECONFIG_CONFARGS', args.join(' '));
}

/** meson's view of `-Dname=value` arguments: the last one of a name wins. */
export function mesonOptions(args: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of args.matchAll(/(?:^|\s)-D([\w.:-]+)=(\S*)/g)) out.set(m[1]!, m[2]!);
  return out;
}
