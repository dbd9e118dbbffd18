// Builds release tarballs with scripts/release/make-release.sh (the script
// behind `npm run release`), either of the real project or of the fixture
// daemon that stands in for it while the daemon is being written.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageVersion, releaseScript, repoRoot } from './layer-files.js';
import { requireCommand } from '../../support/require-command.js';

export const fixtureReleaseEnv = {
  VM_DAEMON_ENTRY: 'test/layer/fixtures/fixture-daemon.ts',
  VM_CLIENT_ENTRY: 'test/layer/fixtures/fixture-client.ts',
  VM_CONFIG: 'test/layer/fixtures/fixture-config.json',
  // Debian's copy of the Apache-2.0 text, the same file the project's
  // LICENSE must be (the recipes' LIC_FILES_CHKSUM names its md5).
  VM_LICENSE: '/usr/share/common-licenses/Apache-2.0',
};

export interface ReleaseResult {
  code: number | null;
  tarball: string;
  output: string;
}

export async function makeRelease(outDir: string, env: Record<string, string> = {}, args: string[] = []): Promise<ReleaseResult> {
  // Only the overrides asked for: a stray VM_* in the caller's environment
  // must not turn the real release into something else.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VM_')));
  // Offline, as the tests must be: the script only uses the checkout and node_modules.
  requireCommand('unshare', 'util-linux');
  const child = spawn('unshare', ['--net', 'bash', releaseScript, '--out', outDir, ...args], {
    cwd: repoRoot,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output, tarball: join(outDir, `meta-virtual-media-${packageVersion()}.tgz`) };
}
