// Where the phosphor-dbus-interfaces corpus is. It lives beside the
// repository (../shared/corpus, never copied in); a clone elsewhere (under
// /tmp, say) finds it beside the repository it was cloned from, or where
// PDI_CORPUS points.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

const BESIDE = ['..', 'shared', 'corpus', 'phosphor-dbus-interfaces', 'yaml'];

export function findCorpusRoot(repoRoot: string): string {
  const beside = resolve(repoRoot, ...BESIDE);
  const candidates = [process.env.PDI_CORPUS, beside, besideOrigin(repoRoot)].filter((c): c is string => !!c);
  return candidates.find((c) => existsSync(c)) ?? beside;
}

/** The corpus beside the repository this one was cloned from, when that is a local path. */
function besideOrigin(repoRoot: string): string | undefined {
  try {
    const origin = execFileSync('git', ['-C', repoRoot, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return isAbsolute(origin) ? resolve(origin, ...BESIDE) : undefined;
  } catch {
    return undefined;
  }
}
