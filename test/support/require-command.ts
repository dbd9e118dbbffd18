// Tests that need an external program fail loudly, naming the package to
// install, instead of skipping silently.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findCommand(command: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  for (const dir of dirs) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function requireCommand(command: string, debianPackage: string): string {
  const path = findCommand(command);
  if (!path) {
    throw new Error(`'${command}' is not installed: install the Debian package '${debianPackage}' (npm run bootstrap does this)`);
  }
  return path;
}
