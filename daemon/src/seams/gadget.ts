// Seam: the USB mass-storage gadget in configfs (one gadget per mount point).
// Order matters to the kernel: cdrom and ro before file (EBUSY after), file
// before binding the UDC; teardown unbinds first, then removes in reverse.
import { existsSync, readdirSync, symlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { GadgetIdentity } from '../config/types.js';
import { makeGroup, readAttribute, removeGroup, removeLink, writeAttribute } from './configfs-fs.js';

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
  create(mountPointId: string, id: GadgetIdentity, medium: Medium): void {
    const g = this.gadgetDir(mountPointId);
    makeGroup(g);
    writeAttribute(`${g}/idVendor`, hex(id.vendorId));
    writeAttribute(`${g}/idProduct`, hex(id.productId));
    writeAttribute(`${g}/bcdDevice`, hex(id.bcdDevice));
    writeAttribute(`${g}/bcdUSB`, '0x0200');
    makeGroup(`${g}/strings/${LANG}`);
    writeAttribute(`${g}/strings/${LANG}/manufacturer`, id.manufacturer);
    writeAttribute(`${g}/strings/${LANG}/product`, id.product);
    writeAttribute(`${g}/strings/${LANG}/serialnumber`, `${id.serialNumberPrefix}${mountPointId}`);
    makeGroup(`${g}/configs/${CONFIG}/strings/${LANG}`);
    writeAttribute(`${g}/configs/${CONFIG}/strings/${LANG}/configuration`, 'Virtual Media');
    const f = `${g}/functions/${FUNCTION}`;
    makeGroup(`${f}/lun.0`);
    writeAttribute(`${f}/lun.0/removable`, '1');
    writeAttribute(`${f}/lun.0/cdrom`, medium.cdrom ? '1' : '0');
    writeAttribute(`${f}/lun.0/ro`, medium.readOnly ? '1' : '0');
    writeAttribute(`${f}/lun.0/file`, medium.devicePath);
    symlinkSync(f, `${g}/configs/${CONFIG}/${FUNCTION}`);
  }

  bind(mountPointId: string, udc: string): void {
    writeAttribute(`${this.gadgetDir(mountPointId)}/UDC`, udc);
  }

  /** Unbinds and removes the gadget; each step tolerates a half-built gadget. */
  remove(mountPointId: string): void {
    this.removeByName(this.gadgetName(mountPointId));
  }

  removeByName(name: string): void {
    const g = posix.join(this.gadgetsDir, name);
    if (!existsSync(g)) return;
    if (readAttribute(`${g}/UDC`)) writeAttribute(`${g}/UDC`, '\n');
    // Dropping the backing file first closes /dev/nbdN even if rmdir is refused.
    const file = `${g}/functions/${FUNCTION}/lun.0/file`;
    if (readAttribute(file)) writeAttribute(file, '\n');
    removeLink(`${g}/configs/${CONFIG}/${FUNCTION}`);
    removeGroup(`${g}/configs/${CONFIG}/strings/${LANG}`);
    removeGroup(`${g}/configs/${CONFIG}`);
    removeGroup(`${g}/functions/${FUNCTION}`);
    removeGroup(`${g}/strings/${LANG}`);
    removeGroup(g);
  }

  /** Names of the gadgets a previous run of this daemon left behind. */
  ours(): string[] {
    try {
      return readdirSync(this.gadgetsDir).filter((n) => n.startsWith(GADGET_PREFIX));
    } catch {
      return [];
    }
  }

  /** UDC names some gadget (ours or not) is bound to. */
  boundUdcs(): Set<string> {
    const bound = new Set<string>();
    let names: string[] = [];
    try {
      names = readdirSync(this.gadgetsDir);
    } catch {
      return bound;
    }
    for (const n of names) {
      const udc = readAttribute(posix.join(this.gadgetsDir, n, 'UDC'));
      if (udc) bound.add(udc);
    }
    return bound;
  }

  statsPath(mountPointId: string): string {
    return `${this.gadgetDir(mountPointId)}/functions/${FUNCTION}/lun.0/stats`;
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}
