// virtual-media-serve as a user installs it: the packed npm package
// (scripts/packages/serve-package.ts) installed into a fresh project,
// offline from npm's cache (npm ci in this repository puts ws there), with a
// PATH that has no trace of this repository. Used by
// test/packages/serve-package.test.ts and the e2e VM (test/e2e/proxy.test.ts).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServePackage } from '../../../scripts/packages/serve-package.js';

export interface InstalledCli {
  /** The fresh project the package was installed into. */
  project: string;
  /** The installed launcher (node_modules/virtual-media-serve/bin/virtual-media-serve.js). */
  bin: string;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (argument array, no shell) in `cwd` with a PATH that has no trace of this repository. */
export function runClean(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Packs the package under `dir`/packs and installs it into `dir`/project. */
export async function installCliPackage(dir: string): Promise<InstalledCli> {
  const tarball = buildServePackage(join(dir, 'packs'));
  const project = join(dir, 'project');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'operator-tools', version: '1.0.0', private: true }));
  const install = await runClean('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], project);
  if (install.code !== 0) throw new Error(`npm install --offline ${tarball} failed (its dependencies must be in npm's cache: npm ci in this repository puts them there):\n${install.stderr}`);
  return { project, bin: join(project, 'node_modules', 'virtual-media-serve', 'bin', 'virtual-media-serve.js') };
}
