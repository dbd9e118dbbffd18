// Seam: the USB mass-storage gadget in configfs (one gadget per mount point).
// Order matters to the kernel: cdrom and ro before file (EBUSY after), file
// before binding the UDC; teardown unbinds first, then removes in reverse.
// Every configfs access here is asynchronous, the lookups too: while the
// kernel removes or unbinds a gadget it holds the usb_gadget directory's
// lock, and a synchronous stat or readdir waiting for it would stop the
// whole daemon (every D-Bus call) instead of one libuv worker.
import { posix } from 'node:path';
import type { GadgetIdentity } from '../config/types.js';
import { withDeadline } from '../util/abortable.js';
import { exists, listGroup, makeGroup, makeLink, readAttribute, removeGroup, removeLink, writeAttribute } from './configfs-fs.js';

/** Our gadgets are named with this prefix so a restart can tell them from others'. */
export const GADGET_PREFIX = 'virtual-media.';
const FUNCTION = 'mass_storage.usb0';
const CONFIG = 'c.1';
const LANG = '0x409';

export interface Medium {
  readonly devicePath: string;
  readonly readOnly: boolean;
  readonly cdrom: boolean;
}

export class GadgetSeam {
  /** Settles when the bind in progress (if any) is done; see bindChosen. */
  #bindQueue: Promise<void> = Promise.resolve();

  constructor(readonly configfsRoot: string) {}

  get gadgetsDir(): string {
    return posix.join(this.configfsRoot, 'usb_gadget');
  }

  gadgetName(mountPointId: string): string {
    return GADGET_PREFIX + mountPointId;
  }

  gadgetDir(mountPointId: string): string {
    return posix.join(this.gadgetsDir, this.gadgetName(mountPointId));
  }

  /** Builds the gadget without binding it to a UDC. */
  async create(mountPointId: string, id: GadgetIdentity, medium: Medium, signal?: AbortSignal): Promise<void> {
    const g = this.gadgetDir(mountPointId);
    const write = (path: string, value: string) => writeAttribute(path, value, signal);
    await makeGroup(g, signal);
    await write(`${g}/idVendor`, hex(id.vendorId));
    await write(`${g}/idProduct`, hex(id.productId));
    await write(`${g}/bcdDevice`, hex(id.bcdDevice));
    await write(`${g}/bcdUSB`, '0x0200');
    await makeGroup(`${g}/strings/${LANG}`, signal);
    await write(`${g}/strings/${LANG}/manufacturer`, id.manufacturer);
    await write(`${g}/strings/${LANG}/product`, id.product);
    await write(`${g}/strings/${LANG}/serialnumber`, `${id.serialNumberPrefix}${mountPointId}`);
    await makeGroup(`${g}/configs/${CONFIG}/strings/${LANG}`, signal);
    await write(`${g}/configs/${CONFIG}/strings/${LANG}/configuration`, 'Virtual Media');
    const f = `${g}/functions/${FUNCTION}`;
    await makeGroup(`${f}/lun.0`, signal);
    await write(`${f}/lun.0/removable`, '1');
    await write(`${f}/lun.0/cdrom`, medium.cdrom ? '1' : '0');
    await write(`${f}/lun.0/ro`, medium.readOnly ? '1' : '0');
    await write(`${f}/lun.0/file`, medium.devicePath);
    await makeLink(f, `${g}/configs/${CONFIG}/${FUNCTION}`, signal);
  }

  bind(mountPointId: string, udc: string, signal?: AbortSignal): Promise<void> {
    return writeAttribute(`${this.gadgetDir(mountPointId)}/UDC`, udc, signal);
  }

  /**
   * Chooses a UDC (`choose` gets the UDCs bound now) and binds the gadget to
   * it, one mount point at a time: the bind write is asynchronous, and two
   * insertions must not both see the same port free.
   */
  async bindChosen(mountPointId: string, choose: (bound: Set<string>) => string, signal?: AbortSignal): Promise<string> {
    const previous = this.#bindQueue;
    let release!: () => void;
    this.#bindQueue = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      signal?.throwIfAborted();
      const udc = choose(await this.boundUdcs(signal));
      await this.bind(mountPointId, udc, signal);
      return udc;
    } finally {
      release();
    }
  }

  /** Unbinds and removes the gadget; each step tolerates a half-built gadget. */
  remove(mountPointId: string, signal?: AbortSignal): Promise<void> {
    return this.removeByName(this.gadgetName(mountPointId), signal);
  }

  async removeByName(name: string, signal?: AbortSignal): Promise<void> {
    const g = posix.join(this.gadgetsDir, name);
    if (!(await exists(g, signal))) return;
    // Unbinding and dropping the backing file (which closes /dev/nbdN even if
    // rmdir is refused) are best effort, each bounded on its own: a write the
    // kernel never completes must not keep the directories from going.
    await clearAttribute(`${g}/UDC`, signal);
    await clearAttribute(`${g}/functions/${FUNCTION}/lun.0/file`, signal);
    await removeLink(`${g}/configs/${CONFIG}/${FUNCTION}`, signal);
    await removeGroup(`${g}/configs/${CONFIG}/strings/${LANG}`, signal);
    await removeGroup(`${g}/configs/${CONFIG}`, signal);
    await removeGroup(`${g}/functions/${FUNCTION}`, signal);
    await removeGroup(`${g}/strings/${LANG}`, signal);
    await removeGroup(g, signal);
  }

  /** Names of the gadgets a previous run of this daemon left behind. */
  async ours(signal?: AbortSignal): Promise<string[]> {
    return (await listGroup(this.gadgetsDir, signal)).filter((n) => n.startsWith(GADGET_PREFIX));
  }

  /** UDC names some gadget (ours or not) is bound to. */
  async boundUdcs(signal?: AbortSignal): Promise<Set<string>> {
    const bound = new Set<string>();
    for (const n of await listGroup(this.gadgetsDir, signal)) {
      const udc = await readAttribute(posix.join(this.gadgetsDir, n, 'UDC'), signal);
      if (udc) bound.add(udc);
    }
    return bound;
  }

  statsPath(mountPointId: string): string {
    return `${this.gadgetDir(mountPointId)}/functions/${FUNCTION}/lun.0/stats`;
  }
}

/** How long one unbinding write may take during removal. */
const CLEAR_ATTRIBUTE_MS = 2000;

async function clearAttribute(path: string, signal: AbortSignal | undefined): Promise<void> {
  const bounded = withDeadline(signal, CLEAR_ATTRIBUTE_MS);
  try {
    if (await readAttribute(path, bounded.signal)) await writeAttribute(path, '\n', bounded.signal);
  } catch {
    // the directories are removed anyway; what refuses stays for the start-up cleanup
  } finally {
    bounded.release();
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}
