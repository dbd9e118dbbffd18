// Seam: nbdkit, the NBD server of legacy mode. It serves an HTTPS URL (curl
// plugin) or a file on a CIFS mount (file plugin) on the mount point's unix
// socket. The password reaches nbdkit on an inherited pipe (`password=-3`),
// so it is never in argv, the environment, a file or a log line.
import { existsSync, rmSync } from 'node:fs';
import type { HttpsStreaming } from '../media/https-streaming.js';
import { Child } from '../process/child.js';
import { pollUntil } from '../util/abortable.js';
import { Errno, OperationError } from '../util/errno.js';
import type { Logger } from '../util/logger.js';

export interface NbdkitCommon {
  readonly command: string;
  readonly socket: string;
  /** nbdkit writes it once the socket accepts connections: our readiness signal. */
  readonly pidFile: string;
  readonly readOnly: boolean;
  readonly log: Logger;
}

export interface HttpsSource {
  readonly url: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly caFile: string | undefined;
  readonly caPath: string | undefined;
  /** Filters and tuning parameters, from the installed nbdkit's features (media/https-streaming.ts). */
  readonly streaming: HttpsStreaming;
}

/** The fd (in the child) the password pipe lands on: stdio 0-2, then secretFds[0]. */
const PASSWORD_FD = 3;

function serverArgs(c: NbdkitCommon): string[] {
  // --foreground: we supervise it; --exit-with-parent: it dies with a crashed daemon.
  const args = ['--foreground', '--exit-with-parent', '--unix', c.socket, '--pidfile', c.pidFile];
  if (c.readOnly) args.push('--readonly');
  return args;
}

export function httpsArgs(c: NbdkitCommon, s: HttpsSource): string[] {
  const args = serverArgs(c);
  for (const f of s.streaming.filters) args.push(`--filter=${f}`);
  args.push('curl', `url=${s.url}`, 'protocols=https', ...s.streaming.pluginParams);
  // TLS verification stays on (the plugin's default); only the trust anchors are ours.
  if (s.caFile) args.push(`cainfo=${s.caFile}`);
  if (s.caPath) args.push(`capath=${s.caPath}`);
  if (s.user !== undefined) args.push(`user=${s.user}`, `password=-${PASSWORD_FD}`);
  args.push(...s.streaming.filterParams);
  return args;
}

export function fileArgs(c: NbdkitCommon, file: string): string[] {
  return [...serverArgs(c), 'file', `file=${file}`];
}

export async function startHttps(c: NbdkitCommon, s: HttpsSource, signal: AbortSignal): Promise<Child> {
  const secret = s.user !== undefined ? [Buffer.from(s.password ?? '', 'utf8')] : [];
  return start(c, httpsArgs(c, s), secret, signal);
}

export async function startFile(c: NbdkitCommon, file: string, signal: AbortSignal): Promise<Child> {
  return start(c, fileArgs(c, file), [], signal);
}

async function start(c: NbdkitCommon, args: string[], secretFds: Buffer[], signal: AbortSignal): Promise<Child> {
  rmSync(c.pidFile, { force: true });
  rmSync(c.socket, { force: true });
  const child = new Child(c.command, args, { label: 'nbdkit', log: c.log, secretFds });
  try {
    await pollUntil(
      () => {
        if (existsSync(c.pidFile)) return true;
        if (!child.running) throw new OperationError(Errno.ECANCELED, 'nbdkit exited before serving');
        return undefined;
      },
      50,
      signal,
    );
  } catch (e) {
    await child.stop(1000);
    throw e;
  }
  return child;
}
