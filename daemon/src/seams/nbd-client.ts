// Seam: nbd-client, which connects /dev/nbdN to the NBD server on a unix
// socket. It runs in the foreground (-nofork) with the ioctl interface
// (-nonetlink, nbd-client 3.24) so the daemon supervises it: its exit means
// the device is gone. The command is configurable so tests can stand in a
// fake that plays the kernel's part in a temp tree.
import { posix } from 'node:path';
import { Child, runToCompletion } from '../process/child.js';
import type { Logger } from '../util/logger.js';

export interface NbdClientOptions {
  readonly command: string;
  readonly devRoot: string;
  readonly log: Logger;
}

export function devicePath(devRoot: string, nbdDevice: string): string {
  return posix.join(devRoot, nbdDevice);
}

export function attachArgs(o: NbdClientOptions, nbdDevice: string, socket: string, blockSize: number, timeout: number, readOnly: boolean): string[] {
  const args = ['-unix', socket, devicePath(o.devRoot, nbdDevice), '-block-size', String(blockSize), '-timeout', String(timeout), '-nofork', '-nonetlink'];
  if (readOnly) args.push('-readonly');
  return args;
}

/** Starts the foreground nbd-client; the caller watches for the device to get a size. */
export function attach(o: NbdClientOptions, nbdDevice: string, socket: string, blockSize: number, timeout: number, readOnly: boolean): Child {
  return new Child(o.command, attachArgs(o, nbdDevice, socket, blockSize, timeout, readOnly), { label: `nbd-client ${nbdDevice}`, log: o.log });
}

/** `nbd-client -d`: tells the kernel to drop the connection; the foreground client then exits. */
export async function detach(o: NbdClientOptions, nbdDevice: string, timeoutMs = 10_000, signal?: AbortSignal): Promise<boolean> {
  const exit = await runToCompletion(o.command, ['-d', devicePath(o.devRoot, nbdDevice)], { label: `nbd-client -d ${nbdDevice}`, log: o.log }, timeoutMs, signal);
  return exit.code === 0;
}
