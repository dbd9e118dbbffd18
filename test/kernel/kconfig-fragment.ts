// Reads a kernel config fragment strictly: merge_config.sh silently treats a
// mistyped line as a comment, so anything that is not exactly
// `CONFIG_X=y`, `CONFIG_X=m` or `# CONFIG_X is not set` (or a plain comment
// or blank line) is reported here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FragmentEntry {
  symbol: string;
  value: 'y' | 'm' | 'n';
  line: number;
}

export interface ParsedFragment {
  entries: FragmentEntry[];
  errors: string[];
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=([ym])$/;
const NOT_SET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;
/** A comment that was probably meant as an option line. */
const LOOKS_LIKE_OPTION = /^#\s*CONFIG_[A-Za-z0-9_]+(\s|=|$)/;

export function parseFragment(text: string): ParsedFragment {
  const entries: FragmentEntry[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    let entry: FragmentEntry | undefined;
    const set = SET.exec(raw);
    const notSet = NOT_SET.exec(raw);
    if (set?.[1] && set[2]) entry = { symbol: set[1], value: set[2] as 'y' | 'm', line };
    else if (notSet?.[1]) entry = { symbol: notSet[1], value: 'n', line };
    else if (raw.trim() === '') return;
    else if (raw.startsWith('#') && !LOOKS_LIKE_OPTION.test(raw)) return;
    else {
      errors.push(`line ${line}: not a valid config line: ${JSON.stringify(raw)}`);
      return;
    }
    const previous = seen.get(entry.symbol);
    if (previous !== undefined) errors.push(`line ${line}: CONFIG_${entry.symbol} already set on line ${previous}`);
    seen.set(entry.symbol, line);
    entries.push(entry);
  });
  return { entries, errors };
}

/** Every symbol declared by a `config` or `menuconfig` line in the tree's Kconfig files. */
export function kconfigSymbols(treeDir: string): Set<string> {
  const symbols = new Set<string>();
  const files = readdirSync(treeDir, { recursive: true, encoding: 'utf8' }).filter((path) =>
    /(^|\/)Kconfig[^/]*$/.test(path),
  );
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(join(treeDir, file), 'utf8');
    } catch {
      continue; // a directory named like a Kconfig file
    }
    for (const match of text.matchAll(/^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$/gm)) symbols.add(match[1] as string);
  }
  return symbols;
}

/** The value a final .config gives a symbol: 'y', 'm', or 'n' when unset or absent. */
export function configValue(config: string, symbol: string): string {
  const match = new RegExp(`^CONFIG_${symbol}=(.*)$`, 'm').exec(config);
  return match?.[1] ?? 'n';
}
