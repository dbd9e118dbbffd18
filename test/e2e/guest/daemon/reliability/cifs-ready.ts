// A sealed CIFS mount by hand, to know smbd serves sessions (not only that it
// listens on port 445).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sleep } from '../kernel-view.js';
import { SMB_PASSWORD, SMB_USER } from '../smb.js';

/**
 * Mounts and unmounts the share up to `attempts` times; true once one worked.
 * smbd forks a child per connection, slowly on a loaded host, and the kernel
 * may give up on one; after a restart of smbd the kernel's old session may
 * still be reconnecting.
 */
export async function cifsServes(dir: string, attempts: number): Promise<boolean> {
  const target = join(dir, 'cifs-probe');
  const credentials = join(dir, 'cifs-probe.cred');
  mkdirSync(target, { recursive: true });
  writeFileSync(credentials, `username=${SMB_USER}\npassword=${SMB_PASSWORD}\n`, { mode: 0o600 });
  try {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await run('mount', ['-t', 'cifs', '//127.0.0.1/images', target, '-o', `ro,seal,vers=3.1.1,credentials=${credentials}`], { timeout: 300_000 });
        await run('umount', [target]);
        return true;
      } catch (e) {
        process.stdout.write(`E2E-WARN: CIFS probe mount ${attempt}/${attempts} failed: ${(e as Error).message.split('\n')[0]}\n`);
        await sleep(2000);
      }
    }
    return false;
  } finally {
    rmSync(credentials, { force: true });
  }
}
