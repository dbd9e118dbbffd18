// Just enough of BitBake's variable handling to run a recipe's shell tasks
// outside bitbake: plain assignments (=, ?=, ??=, :=), :override variants,
// require of a sibling .inc, ${VAR} expansion. Anything else (inline python,
// appends) is refused so that a recipe change the tests cannot follow fails
// loudly instead of being run differently from bitbake.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Assignment {
  name: string;
  override?: string;
  op: string;
  value: string;
}

/** Joins backslash-continued lines and drops comments. */
export function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (pending === '' && /^\s*#/.test(raw)) continue;
    if (raw.endsWith('\\')) {
      pending += raw.slice(0, -1) + ' ';
      continue;
    }
    lines.push(pending + raw);
    pending = '';
  }
  if (pending) lines.push(pending);
  return lines;
}

const assignmentPattern = /^([A-Za-z_][\w-]*)(?::([\w${}-]+))?(?:\[([\w-]+)\])?\s*(\?\?=|\?=|:=|\+=|=\+|\.=|=\.|=)\s*"(.*)"\s*$/;

export function assignments(text: string): Assignment[] {
  const out: Assignment[] = [];
  for (const line of logicalLines(text)) {
    const m = assignmentPattern.exec(line.trim());
    if (!m || m[3]) continue; // varflags (SRC_URI[sha256sum]) are not variables
    out.push({ name: m[1]!, override: m[2], op: m[4]!, value: m[5]!.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** The recipe text followed by the texts of the sibling files it requires by plain name. */
export function recipeWithIncludes(path: string): string {
  const text = readFileSync(path, 'utf8');
  let joined = text;
  for (const m of text.matchAll(/^(?:require|include)\s+([\w.-]+\.inc)\s*$/gm)) {
    const inc = join(dirname(path), m[1]!);
    if (!existsSync(inc)) throw new Error(`${path} requires ${m[1]} which does not exist`);
    joined = readFileSync(inc, 'utf8') + '\n' + joined;
  }
  return joined;
}

/** Body of a shell task such as do_install, exactly as written in the recipe. */
export function shellFunction(text: string, name: string): string {
  const m = new RegExp(`^${name}\\(\\)\\s*\\{\\n([\\s\\S]*?)^\\}`, 'm').exec(text);
  if (!m) throw new Error(`no ${name}() in the recipe`);
  return m[1]!;
}

export class RecipeVars {
  private readonly defs = new Map<string, string>();

  /**
   * @param text recipe (with includes) text
   * @param builtins values that bitbake.conf or the build would provide
   * @param overrides active OVERRIDES, e.g. ['arm']
   */
  constructor(text: string, private readonly builtins: Record<string, string>, overrides: string[] = []) {
    const plain = new Map<string, string>();
    const overridden = new Map<string, string>();
    for (const a of assignments(text)) {
      if (a.op !== '=' && a.op !== '?=' && a.op !== '??=' && a.op !== ':=') continue;
      if (a.override) {
        if (overrides.includes(a.override)) overridden.set(a.name, a.value);
        continue;
      }
      const weak = a.op === '?=' || a.op === '??=';
      if (weak && plain.has(a.name)) continue;
      plain.set(a.name, a.value);
    }
    for (const [k, v] of plain) this.defs.set(k, v);
    for (const [k, v] of overridden) this.defs.set(k, v);
  }

  expand(value: string, depth = 0): string {
    if (depth > 20) throw new Error(`variable expansion too deep: ${value}`);
    if (value.includes('${@')) throw new Error(`inline python cannot be expanded outside bitbake: ${value}`);
    return value.replace(/\$\{([A-Za-z_][\w-]*)\}/g, (_all, name: string) => this.get(name, depth + 1));
  }

  get(name: string, depth = 0): string {
    if (name in this.builtins) return this.builtins[name]!;
    const def = this.defs.get(name);
    if (def === undefined) throw new Error(`\${${name}} is neither set by the recipe nor known to the test`);
    return this.expand(def, depth);
  }
}
