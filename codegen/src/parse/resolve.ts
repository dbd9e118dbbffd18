// Cross-file checks, once every needed file is loaded: enum types name an
// enumeration that exists, error names an error that exists, and defaults fit
// their types (enum defaults need the enumeration's values).

import type { Corpus, EnumDef } from '../model.js';
import { listWords, show } from './diagnostics.js';
import { readDefault } from './defaults.js';
import type { ErrorUse, ParsedInterface, TypeUse } from './interface.js';
import { closest } from './names.js';
import { enumsIn } from './types.js';

export interface ResolveContext {
  corpus: Corpus;
  parsed: Map<string, ParsedInterface>;
  /** Interfaces whose file exists but could not be read: don't pile errors onto references to them. */
  unreadable: Set<string>;
  /** How a name maps to a file under the root, for messages. */
  relativeFile(name: string, suffix: string): string;
}

export function findEnum(corpus: Corpus, interfaceName: string, enumName: string): EnumDef | undefined {
  return corpus.interfaces.get(interfaceName)?.enumerations.find((e) => e.name === enumName);
}

function checkTypeUse(ctx: ResolveContext, owner: ParsedInterface, use: TypeUse): void {
  for (const ref of enumsIn(use.type)) {
    if (ctx.unreadable.has(ref.interface)) continue;
    const target = ctx.corpus.interfaces.get(ref.interface);
    const isSelf = ref.interface === owner.def.name;
    const written = isSelf ? `self.${ref.name}` : `${ref.interface}.${ref.name}`;
    // Point at the reference inside the type string when we can find it.
    const spellings = isSelf ? [`self.${ref.name}`, `${ref.interface}.${ref.name}`] : [`${ref.interface}.${ref.name}`];
    const at = spellings.map((w) => use.text.indexOf(w)).find((i) => i >= 0) ?? 0;
    let problem: string | undefined;
    if (!target) {
      problem = `there is no interface ${ref.interface} (no file ${ctx.relativeFile(ref.interface, '.interface.yaml')} under the root)`;
    } else if (!target.enumerations.some((e) => e.name === ref.name)) {
      const names = target.enumerations.map((e) => e.name);
      const hint = closest(ref.name, names);
      problem = `${isSelf ? 'this interface' : `interface ${ref.interface}`} has no enumeration ${show(ref.name)}${hint ? ` (did you mean ${show(hint)}?)` : ''}; its enumerations are ${listWords(names)}`;
    }
    if (problem) owner.reader.errorInScalar(use.node, use.text, at, `unknown enum ${written} in type ${show(use.text)}: ${problem}`);
  }
}

function checkErrorUse(ctx: ResolveContext, owner: ParsedInterface, use: ErrorUse): void {
  const files = use.source === 'errors' ? ctx.corpus.errorFiles : ctx.corpus.eventErrorFiles;
  const suffix = use.source === 'errors' ? '.errors.yaml' : '.events.yaml';
  const file = files.get(use.namespace);
  const where = ctx.relativeFile(use.namespace, suffix);
  if (!file) {
    const form = use.source === 'errors' ? '' : ' (a name without .Error. refers to an error in an events file)';
    owner.reader.error(use.node, `unknown error ${show(use.written)}: there is no ${where} under the root${form}`);
    return;
  }
  if (file.errors.some((e) => e.name === use.name)) return;
  const names = file.errors.map((e) => e.name);
  const hint = closest(use.name, names);
  owner.reader.error(use.node, `unknown error ${show(use.written)}: ${where} defines no error ${show(use.name)}${hint ? ` (did you mean ${show(hint)}?)` : ''}`);
}

export function resolveInterface(ctx: ResolveContext, parsed: ParsedInterface): void {
  for (const use of parsed.typeUses) checkTypeUse(ctx, parsed, use);
  for (const use of parsed.errorUses) checkErrorUse(ctx, parsed, use);
  for (const use of parsed.defaultUses) {
    const value = readDefault(use.node, use.type, {
      reader: parsed.reader,
      findEnum: (i, e) => findEnum(ctx.corpus, i, e),
    });
    if (value !== undefined) use.target.default = value;
  }
}

/** Interfaces (other than its own) that a parsed interface's enum types refer to. */
export function referencedInterfaces(parsed: ParsedInterface): Set<string> {
  const names = new Set<string>();
  for (const use of parsed.typeUses) {
    for (const ref of enumsIn(use.type)) if (ref.interface !== parsed.def.name) names.add(ref.interface);
  }
  return names;
}
