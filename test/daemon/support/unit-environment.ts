// The environment the shipped unit gives the daemon (its Environment=
// lines): the daemon tests on the host start the daemon with it, as systemd
// does on the BMC (the VM runs the unit itself).
import { readFileSync } from 'node:fs';
import { unitFile } from '../../layer/support/layer-files.js';

/** KEY=VALUE pairs of the unit's Environment= lines; anything beyond plain words (quotes, escapes, specifiers) is refused, not guessed. */
export function unitEnvironment(text = readFileSync(unitFile, 'utf8'), file = unitFile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [index, line] of text.split('\n').entries()) {
    const m = /^\s*Environment=(.*)$/.exec(line);
    if (!m) continue;
    for (const word of m[1]!.trim().split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      if (eq <= 0 || /["'\\%$]/.test(word)) throw new Error(`${file}:${index + 1}: "${word}" is not a plain KEY=VALUE (the test support does not parse systemd quoting)`);
      env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return env;
}
