// Naming rules: D-Bus member names, and the identifiers sdbus++ turns into
// C++ (and we into TypeScript) names.

/** D-Bus member names (methods, properties, signals) and every other PDI identifier. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 255;

/** Why `name` is not a valid identifier, or undefined when it is. */
export function identifierProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  if (!IDENTIFIER.test(name)) {
    if (/^[0-9]/.test(name)) return 'it starts with a digit';
    const bad = [...name].find((c) => !/[A-Za-z0-9_]/.test(c));
    return `it contains ${JSON.stringify(bad)}; only letters, digits and _ are allowed`;
  }
  return undefined;
}

/** Why a dotted D-Bus interface (or error namespace) name is invalid, or undefined. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  const parts = name.split('.');
  if (parts.length < 2) return 'a D-Bus interface name needs at least two dot-separated elements';
  for (const part of parts) {
    const problem = identifierProblem(part);
    if (problem) return `the element ${JSON.stringify(part)} is invalid: ${problem}`;
  }
  return undefined;
}

/** inflection.underscore, which sdbus++ uses to name path segments that have no value. */
export function snakeCase(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}
