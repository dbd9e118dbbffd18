// The proxy-mode scenarios: something on the far side of the fake bmcweb's
// websocket serves an image (the CLI as its npm package installs it, or the browser module in
// headless Chromium on the host), the shipped daemon attaches it, and the guest's USB
// host must see it byte for byte; ending the server's side ejects it. A
// scenario throws to fail; what it returns is recorded with its result.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as rt from '../../../../codegen/runtime/index.js';
import type { Pki } from '../../../daemon/support/tls-server.js';
import { publishTestPage } from '../../../nbd/support/browser-page.js';
import { CliProcess } from '../../../nbd/support/cli-process.js';
import type { FakeBmcweb } from '../../../nbd/support/fake-bmcweb.js';
import { randomImage, type Image } from '../daemon/fixtures.js';
import { sha256, waitClean, waitForUsbDevice } from '../daemon/kernel-view.js';
import { Medium } from '../daemon/media-client.js';
import { within } from '../../../support/within.js';
import { HostReports } from './browser-link.js';

export interface ProxyContext {
  connection: rt.Connection;
  bmc: FakeBmcweb;
  pki: Pki;
  work: string;
  /** The proxy mount point (Redfish Id and D-Bus object name) and its nbd device. */
  slot: string;
  nbd: string;
  password: string;
  /** The CLI's launcher: the installed npm package's. */
  cliBin: string;
  /** The browser module bundled on the host. */
  browserBundle: string;
  /** $E2E_SHARE: what the host reads (the file its browser serves) and writes (its reports). */
  share: string;
}

/** Generous: node, the relay and the daemon all run under TCG on a shared machine. */
const STEP_MS = 120_000;
/** A first start of the CLI compiles or loads a lot under TCG: minutes on a loaded host. */
const START_MS = 360_000;

/** From websocket open to the USB disk read whole: its size and sha256 must be the image's. */
async function usbDiskMatches(m: Medium, ctx: ProxyContext, image: Image, since: number, gone: Promise<string>): Promise<{ name: string; mountToUsbMs: number; readMs: number }> {
  await within('Proxy.Mount through the relay', ctx.bmc.mounted(ctx.slot), START_MS, gone);
  await m.expectCompletion('Proxy.Mount', since, STEP_MS);
  const disk = await waitForUsbDevice('sd', STEP_MS);
  const mountToUsbMs = Date.now() - since;
  if (disk.bytes !== image.bytes) throw new Error(`/dev/${disk.name} has ${disk.bytes} bytes, the image ${image.bytes}`);
  if ((await m.process.get('Active')) !== true) throw new Error('Process.Active is false with the medium in');
  const t = Date.now();
  const got = await sha256(`/dev/${disk.name}`);
  if (got !== image.sha256) throw new Error(`sha256 of /dev/${disk.name} ${got} != the served file's ${image.sha256}`);
  return { name: disk.name, mountToUsbMs, readMs: Date.now() - t };
}

/**
 * After the server side ended: the relay closes the daemon's socket, then
 * calls Proxy.Unmount (bmcweb's order). nbd-client may see the socket close
 * first and the daemon start ejecting by itself: that is the normal end of a
 * proxy medium, so whichever comes first the Unmount is answered true, the
 * eject completes with 0, and the mount point comes back ready, nothing left.
 */
async function ejected(m: Medium, ctx: ProxyContext, unmounted: Promise<void>, since: number, socket: string): Promise<{ readyMs: number; completion: number; unmountError?: string }> {
  const errorsBefore = ctx.bmc.unmountErrors.length;
  await within('the relay to close and call Proxy.Unmount', unmounted, STEP_MS);
  const unmountError = ctx.bmc.unmountErrors.slice(errorsBefore).join('; ');
  const { errno } = await m.nextCompletion(STEP_MS);
  if (errno !== 0) throw new Error(`the eject ended with Completion(${errno})`);
  if (unmountError) throw new Error(`Proxy.Unmount failed: ${unmountError}`);
  await waitClean(ctx.nbd, socket, 30_000);
  if ((await m.process.get('Active')) !== false) throw new Error('Process.Active is still true after the eject');
  return { readyMs: Date.now() - since, completion: errno, ...(unmountError ? { unmountError } : {}) };
}

function startCli(ctx: ProxyContext, image: Image, extra: string[] = []): { cli: CliProcess; gone: Promise<string> } {
  const cli = new CliProcess(['--bmc', ctx.bmc.url, '--ca', ctx.pki.caFile, ...extra, image.path], { BMC_PASSWORD: ctx.password }, ctx.cliBin);
  const gone = cli.exited.then((code) => `the CLI exited (${code}) first: ${cli.stderr.trim().split('\n').slice(-4).join(' | ')}`);
  return { cli, gone };
}

/** SIGINT (Ctrl-C) to the CLI: it must end with 0, delete its session and never print the password. */
async function ctrlC(ctx: ProxyContext, cli: CliProcess): Promise<string> {
  const sessionsBefore = ctx.bmc.deletedSessions.length;
  cli.child.kill('SIGINT');
  const code = await cli.exit(STEP_MS);
  if (code !== 0) throw new Error(`the CLI exited with ${code} on Ctrl-C: ${cli.stderr.trim()}`);
  if (ctx.bmc.deletedSessions.length !== sessionsBefore + 1 || ctx.bmc.sessions.size !== 0) throw new Error('the CLI did not delete its Redfish session');
  if ((cli.stdout + cli.stderr).includes(ctx.password)) throw new Error('the password appears in the CLI output');
  const totals = cli.stderr.split('\n').find((l) => /\btotal: served/.test(l));
  if (!totals) throw new Error(`the CLI printed no totals line: ${cli.stderr.trim()}`);
  return totals.trim();
}

/** The CLI serves a read-only image: the USB disk reads back its sha256; Ctrl-C ejects. */
export async function cliReadOnly(ctx: ProxyContext): Promise<Record<string, unknown>> {
  const image = randomImage(ctx.work, 'ro.img', 6);
  const m = await Medium.open(ctx.connection, 'Proxy', ctx.slot);
  const t0 = Date.now();
  const { cli, gone } = startCli(ctx, image);
  try {
    const usb = await usbDiskMatches(m, ctx, image, t0, gone);
    if ((await m.mountPoint.get('WriteProtected')) !== true) throw new Error('WriteProtected is false for a read-only export');
    const socket = ctx.bmc.socketPath(ctx.slot);
    const unmounted = ctx.bmc.unmounted(ctx.slot);
    const t1 = Date.now();
    const totals = await ctrlC(ctx, cli);
    const eject = await ejected(m, ctx, unmounted, t1, socket);
    return { usb: usb.name, mountToUsbMs: usb.mountToUsbMs, usbReadMs: usb.readMs, ctrlCToReadyMs: eject.readyMs, ejectCompletion: eject.completion, unmountError: eject.unmountError, cliTotals: totals };
  } finally {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await m.close();
  }
}

/** --rw: a direct write to the USB disk lands in the local file; Ctrl-C ejects after it. */
export async function cliReadWrite(ctx: ProxyContext): Promise<Record<string, unknown>> {
  const image = randomImage(ctx.work, 'rw.img', 6);
  const expected = readFileSync(image.path);
  const patch = randomBytes(1 << 20);
  const offset = 2 << 20;
  patch.copy(expected, offset);
  writeFileSync(join(ctx.work, 'patch.bin'), patch);
  const m = await Medium.open(ctx.connection, 'Proxy', ctx.slot);
  const t0 = Date.now();
  const { cli, gone } = startCli(ctx, image, ['--rw']);
  try {
    const usb = await usbDiskMatches(m, ctx, image, t0, gone);
    if ((await m.mountPoint.get('WriteProtected')) !== false) throw new Error('WriteProtected is true for a --rw export');
    // O_DIRECT past the page cache, then fsync: SYNCHRONIZE CACHE -> NBD_CMD_FLUSH.
    await promisify(execFile)('dd', [`if=${join(ctx.work, 'patch.bin')}`, `of=/dev/${usb.name}`, 'bs=1M', `seek=${offset >> 20}`, 'count=1', 'oflag=direct', 'conv=notrunc,fsync', 'status=none'], { timeout: STEP_MS });
    const socket = ctx.bmc.socketPath(ctx.slot);
    const unmounted = ctx.bmc.unmounted(ctx.slot);
    const t1 = Date.now();
    const totals = await ctrlC(ctx, cli);
    const eject = await ejected(m, ctx, unmounted, t1, socket);
    const local = createHash('sha256').update(readFileSync(image.path)).digest('hex');
    if (local !== createHash('sha256').update(expected).digest('hex')) throw new Error('the local file does not hold the 1 MiB written to the USB disk at 2 MiB');
    return { usb: usb.name, ejectCompletion: eject.completion, unmountError: eject.unmountError, cliTotals: totals };
  } finally {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await m.close();
  }
}

/** Budget of the whole browser scenario: it fails by itself before the VM's own limit. */
const BROWSER_BUDGET_MS = 720_000;

/**
 * Headless Chromium on the host serves a File through the browser module:
 * the same USB check; session.stop() ejects. The operator's browser is on
 * another machine than the BMC: it loads the page from this fake bmcweb
 * through the port the host forwards to the guest, and acts when asked on
 * the console (browser-link.ts, test/e2e/host/proxy-browser.ts).
 */
export async function browserServesFile(ctx: ProxyContext): Promise<Record<string, unknown>> {
  // On the share: the host's browser picks this file in <input type=file>.
  const file = 'browser/installer.img';
  const image = randomImage(join(ctx.share, 'browser'), 'installer.img', 6);
  await publishTestPage(ctx.bmc, readFileSync(ctx.browserBundle));
  const host = new HostReports(ctx.share);
  const m = await Medium.open(ctx.connection, 'Proxy', ctx.slot);
  try {
    return await within('the browser scenario', (async () => {
      const t1 = Date.now();
      host.ask({ do: 'serve', file }, 'serving');
      const usb = await usbDiskMatches(m, ctx, image, t1, host.failure());
      const serving = await host.next('serving', STEP_MS);
      const socket = ctx.bmc.socketPath(ctx.slot);
      const unmounted = ctx.bmc.unmounted(ctx.slot);
      const t2 = Date.now();
      host.ask({ do: 'stop' }, 'stopped');
      const stopped = await host.next('stopped', STEP_MS);
      const eject = await ejected(m, ctx, unmounted, t2, socket);
      if (stopped.bytesRead < image.bytes) throw new Error(`the page served ${stopped.bytesRead} bytes, less than the image's ${image.bytes}`);
      if (stopped.pageErrors.length) throw new Error(`errors in the page: ${stopped.pageErrors.join('; ')}`);
      return {
        usb: usb.name,
        pageLoadMs: serving.pageLoadMs,
        mountToUsbMs: usb.mountToUsbMs,
        usbReadMs: usb.readMs,
        stopToReadyMs: eject.readyMs,
        ejectCompletion: eject.completion,
        unmountError: eject.unmountError,
        end: stopped.end.reason,
        bytesServed: stopped.bytesRead,
      };
    })(), BROWSER_BUDGET_MS);
  } catch (e) {
    // Whether the page reached the fake bmcweb at all tells a network failure from a slow page.
    const seen = ctx.bmc.requests.filter((r) => r.includes('nbd-test') || r.includes('login') || r.startsWith('UPGRADE'));
    throw new Error(`${(e as Error).message.split('\n')[0]}; requests the fake bmcweb saw from the page: ${seen.length ? seen.join(', ') : 'none'}`);
  } finally {
    host.close();
    await m.close();
  }
}
