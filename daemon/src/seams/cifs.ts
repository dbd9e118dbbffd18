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
  /** The mount table (`/proc/self/mountinfo`), to tell whether a share is mounted. */
  readonly mountInfo: string;
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

/** How long one mount.cifs attempt may take before it is killed. */
const MOUNT_ATTEMPT_MS = 30_000;

/**
 * Mounts the share at run/cifs/<id>; returns the mount point. `signal` (the
 * insertion's watchdog) kills a mount.cifs that hangs on a dead server and
 * ends the attempts.
 */
export async function mountShare(o: CifsOptions, mountPointId: string, share: Share, signal?: AbortSignal): Promise<string> {
  const target = cifsTarget(o.runRoot, mountPointId);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  const credentials = share.user !== undefined ? posix.join(o.runRoot, `.${mountPointId}.cred`) : undefined;
  try {
    if (credentials) {
      rmSync(credentials, { force: true });
      writeFileSync(credentials, `username=${share.user}\npassword=${share.password ?? ''}\n`, { mode: 0o600, flag: 'wx' });
    }
    for (const version of SMB_VERSIONS) {
      signal?.throwIfAborted();
      const args = ['-t', 'cifs', share.unc, target, '-o', mountOptions(share, version, credentials)];
      const exit = await runToCompletion(o.mountCommand, args, { label: 'mount.cifs', log: o.log }, MOUNT_ATTEMPT_MS, signal);
      signal?.throwIfAborted();
      if (exit.code === 0) return target;
      o.log.warning(`mounting ${share.unc} with SMB ${version} failed (exit ${exit.code})`);
    }
  } finally {
    if (credentials) rmSync(credentials, { force: true });
  }
  removeEmptyDir(target);
  throw new OperationError(Errno.EINVAL, `cannot mount ${share.unc}`);
}

export function cifsTarget(runRoot: string, mountPointId: string): string {
  return posix.join(cifsDir(runRoot), mountPointId);
}

/**
 * Unmounts the share. Politely first (umount, then a lazy detach if that
 * fails); `urgent` (an abandoned operation) goes straight to the lazy detach,
 * which does not wait for a dead server. Each umount is bounded and killed
 * when `signal` aborts.
 */
export async function unmountShare(o: CifsOptions, target: string, options: { urgent?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  if (isMounted(o.mountInfo, target)) {
    const exit = options.urgent ? undefined : await runToCompletion(o.umountCommand, [target], { label: 'umount', log: o.log }, 30_000, options.signal);
    if (exit?.code !== 0 && isMounted(o.mountInfo, target)) {
      // Lazy detach: a dead server must not keep the mount point forever.
      await runToCompletion(o.umountCommand, ['-l', target], { label: 'umount -l', log: o.log }, options.urgent ? 5_000 : 10_000);
    }
  }
  removeEmptyDir(target);
}

/** Whether `target` is a CIFS mount point in the mount table. */
export function isMounted(mountInfoPath: string, target: string): boolean {
  return cifsMountPoints(mountInfoPath).includes(target);
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
  const prefix = cifsDir(runRoot) + '/';
  return cifsMountPoints(mountInfoPath).filter((m) => m.startsWith(prefix));
}

function cifsMountPoints(mountInfoPath: string): string[] {
  let text: string;
  try {
    text = readFileSync(mountInfoPath, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // mountinfo: id parent major:minor root mountpoint options ... - fstype source superopts
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 0 || fields[sep + 1] !== 'cifs') continue;
    out.push(unescapeMountInfo(fields[4] ?? ''));
  }
  return out;
}

function unescapeMountInfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
