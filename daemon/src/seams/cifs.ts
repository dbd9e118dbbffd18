// Seam: the kernel CIFS client, for legacy smb:// images. mount(8) hands
// `-t cifs` to mount.cifs, which reads the user name and password from a
// `credentials=` file: we write it 0600 in our private run directory and
// delete it as soon as mount returns, so the password is never in argv or
// the environment (mount.cifs' PASSWD variable would put it in
// /proc/<pid>/environ). Encryption (seal) is always on; SMB 3.1.1 first,
// then 3.0 for older servers.
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { runToCompletion } from '../process/child.js';
import { Errno, OperationError } from '../util/errno.js';
import type { Logger } from '../util/logger.js';

export interface CifsOptions {
  readonly mountCommand: string;
  readonly umountCommand: string;
  readonly runRoot: string;
  readonly log: Logger;
}

export interface Share {
  /** `//host/share[/dir]` */
  readonly unc: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly readWrite: boolean;
}

export const SMB_VERSIONS = ['3.1.1', '3'] as const;

export function cifsDir(runRoot: string): string {
  return posix.join(runRoot, 'cifs');
}

export function mountOptions(share: Share, version: string, credentialsFile: string | undefined): string {
  const opts = [share.readWrite ? 'rw' : 'ro', 'seal', `vers=${version}`, 'nosuid', 'nodev', 'noexec'];
  opts.push(credentialsFile ? `credentials=${credentialsFile}` : 'guest');
  return opts.join(',');
}

/** Mounts the share at run/cifs/<id>; returns the mount point. */
export async function mountShare(o: CifsOptions, mountPointId: string, share: Share): Promise<string> {
  const target = posix.join(cifsDir(o.runRoot), mountPointId);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  const credentials = share.user !== undefined ? posix.join(o.runRoot, `.${mountPointId}.cred`) : undefined;
  try {
    if (credentials) {
      rmSync(credentials, { force: true });
      writeFileSync(credentials, `username=${share.user}\npassword=${share.password ?? ''}\n`, { mode: 0o600, flag: 'wx' });
    }
    for (const version of SMB_VERSIONS) {
      const exit = await runToCompletion(o.mountCommand, ['-t', 'cifs', share.unc, target, '-o', mountOptions(share, version, credentials)], { label: 'mount.cifs', log: o.log }, 30_000);
      if (exit.code === 0) return target;
      o.log.warning(`mounting ${share.unc} with SMB ${version} failed (exit ${exit.code})`);
    }
  } finally {
    if (credentials) rmSync(credentials, { force: true });
  }
  removeEmptyDir(target);
  throw new OperationError(Errno.EINVAL, `cannot mount ${share.unc}`);
}

export async function unmountShare(o: CifsOptions, target: string): Promise<void> {
  const exit = await runToCompletion(o.umountCommand, [target], { label: 'umount', log: o.log }, 30_000);
  if (exit.code !== 0) {
    // Lazy detach: a dead server must not keep the mount point forever.
    await runToCompletion(o.umountCommand, ['-l', target], { label: 'umount -l', log: o.log }, 10_000);
  }
  removeEmptyDir(target);
}

function removeEmptyDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // still mounted/busy or already gone: start-up cleanup retries
  }
}

/** CIFS mounts below our run directory, from the mount table (left by a crashed run). */
export function staleCifsMounts(mountInfoPath: string, runRoot: string): string[] {
  let text: string;
  try {
    text = readFileSync(mountInfoPath, 'utf8');
  } catch {
    return [];
  }
  const prefix = cifsDir(runRoot) + '/';
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // mountinfo: id parent major:minor root mountpoint options ... - fstype source superopts
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 0 || fields[sep + 1] !== 'cifs') continue;
    const mountPoint = unescapeMountInfo(fields[4] ?? '');
    if (mountPoint.startsWith(prefix)) out.push(mountPoint);
  }
  return out;
}

function unescapeMountInfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
