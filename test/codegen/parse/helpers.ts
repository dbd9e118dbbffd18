// Shared helpers for the PDI front-end tests: where the corpus is, and a
// throwaway YAML root built from strings.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, type Diagnostic } from '../../../codegen/src/model.js';
import { findCorpusRoot } from '../../support/corpus-root.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const corpusRoot = findCorpusRoot(repoRoot);

/** Write `files` (relative path -> text) into a fresh temporary root. */
export function makeRoot(files: Record<string, string>): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'pdi-parse-'));
  for (const [relative, text] of Object.entries(files)) {
    const file = join(root, relative);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function formatAll(diagnostics: Diagnostic[], root: string): string[] {
  return diagnostics.map((d) => formatDiagnostic({ ...d, file: d.file.startsWith(root) ? d.file.slice(root.length + 1) : d.file }));
}
