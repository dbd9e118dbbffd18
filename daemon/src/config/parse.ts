// Turns the JSON text of the config file into a Config, or into the complete
// list of what is wrong with it. Never returns a half-valid config.
import { DEFAULT_CA_FILE, DEFAULT_COMMANDS, DEFAULT_GADGET, DEFAULT_INACTIVITY_TIMEOUT, DEFAULT_NBDKIT, DEFAULT_BLOCK_DEVICE, DEFAULT_ROOTS } from './defaults.js';
import { parseMountPoints } from './parse-mount-points.js';
import { FieldReader, describe, type Problem } from './reader.js';
import type { BlockDeviceTuning, Commands, Config, GadgetIdentity, NbdkitTuning, Roots } from './types.js';

const TOP_KEYS = ['InactivityTimeout', 'MountPoints', 'TlsCaFile', 'TlsCaPath', 'Udc', 'Gadget', 'Paths', 'Commands', 'Nbdkit', 'BlockDevice'];
const UDC_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
// USB string descriptors are UTF-16 with at most 126 characters; keep them printable.
const USB_STRING = /^[\x20-\x7e]{0,126}$/;

export type ParseResult = { ok: true; config: Config } | { ok: false; problems: Problem[] };

/** Values given on the command line win over the file (tests point the roots at a temp tree). */
export interface Overrides {
  roots?: Partial<Roots>;
}

export function parseConfig(text: string, overrides: Overrides = {}): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [{ path: '(file)', reason: `is not valid JSON: ${(e as Error).message}` }] };
  }
  const r = new FieldReader();
  if (!r.isObject(json)) {
    r.problem('(file)', `must hold a JSON object, got ${describe(json)}`);
    return { ok: false, problems: r.problems };
  }
  r.onlyKnownKeys(json, TOP_KEYS, '');
  const roots = { ...parseRoots(r, r.section(json, 'Paths', '')), ...definedOnly(overrides.roots ?? {}) };
  const config: Config = {
    inactivityTimeout: r.integer(json, 'InactivityTimeout', '', 0, 65535, DEFAULT_INACTIVITY_TIMEOUT),
    mountPoints: parseMountPoints(r, json.MountPoints, roots),
    tlsCaFile: json.TlsCaFile === undefined && json.TlsCaPath === undefined ? DEFAULT_CA_FILE : optionalAbsolute(r, json, 'TlsCaFile'),
    tlsCaPath: optionalAbsolute(r, json, 'TlsCaPath'),
    udc: parseUdc(r, json),
    gadget: parseGadget(r, r.section(json, 'Gadget', '')),
    roots,
    commands: parseCommands(r, r.section(json, 'Commands', '')),
    nbdkit: parseNbdkit(r, r.section(json, 'Nbdkit', '')),
    blockDevice: parseBlockDevice(r, r.section(json, 'BlockDevice', '')),
  };
  return r.problems.length ? { ok: false, problems: r.problems } : { ok: true, config };
}

export function formatProblems(problems: readonly Problem[]): string[] {
  return problems.map((p) => `config: ${p.path}: ${p.reason}`);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function optionalAbsolute(r: FieldReader, obj: Record<string, unknown>, key: string): string | undefined {
  const value = r.optionalString(obj, key, '');
  if (value !== undefined && !value.startsWith('/')) {
    r.problem(key, `must be an absolute path, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

function parseUdc(r: FieldReader, obj: Record<string, unknown>): string | undefined {
  const udc = r.optionalString(obj, 'Udc', '');
  if (udc !== undefined && !UDC_NAME.test(udc)) r.problem('Udc', `must be a UDC name as listed in /sys/class/udc, got ${JSON.stringify(udc)}`);
  return udc;
}

function parseRoots(r: FieldReader, obj: Record<string, unknown>): Roots {
  r.onlyKnownKeys(obj, ['Sys', 'ConfigFs', 'Dev', 'Run', 'ProxySockets', 'MountInfo'], 'Paths');
  return {
    sys: r.absolutePath(obj, 'Sys', 'Paths', DEFAULT_ROOTS.sys),
    configfs: r.absolutePath(obj, 'ConfigFs', 'Paths', DEFAULT_ROOTS.configfs),
    dev: r.absolutePath(obj, 'Dev', 'Paths', DEFAULT_ROOTS.dev),
    run: r.absolutePath(obj, 'Run', 'Paths', DEFAULT_ROOTS.run),
    proxySockets: r.absolutePath(obj, 'ProxySockets', 'Paths', DEFAULT_ROOTS.proxySockets),
    mountInfo: r.absolutePath(obj, 'MountInfo', 'Paths', DEFAULT_ROOTS.mountInfo),
  };
}

function parseCommands(r: FieldReader, obj: Record<string, unknown>): Commands {
  r.onlyKnownKeys(obj, ['Nbdkit', 'NbdClient', 'Mount', 'Umount'], 'Commands');
  const command = (key: string, fallback: string) => {
    const value = r.string(obj, key, 'Commands', fallback);
    // A bare name is looked up in PATH; anything else must be absolute (no cwd surprises).
    if (value === '' || (value.includes('/') && !value.startsWith('/'))) {
      r.problem(`Commands.${key}`, `must be a program name or an absolute path, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  };
  return {
    nbdkit: command('Nbdkit', DEFAULT_COMMANDS.nbdkit),
    nbdClient: command('NbdClient', DEFAULT_COMMANDS.nbdClient),
    mount: command('Mount', DEFAULT_COMMANDS.mount),
    umount: command('Umount', DEFAULT_COMMANDS.umount),
  };
}

function parseGadget(r: FieldReader, obj: Record<string, unknown>): GadgetIdentity {
  r.onlyKnownKeys(obj, ['VendorId', 'ProductId', 'BcdDevice', 'Manufacturer', 'Product', 'SerialNumberPrefix'], 'Gadget');
  const text = (key: keyof typeof obj & string, fallback: string) => {
    const value = r.string(obj, key, 'Gadget', fallback);
    if (!USB_STRING.test(value)) {
      r.problem(`Gadget.${key}`, 'must be at most 126 printable ASCII characters');
      return fallback;
    }
    return value;
  };
  return {
    vendorId: r.integer(obj, 'VendorId', 'Gadget', 0, 0xffff, DEFAULT_GADGET.vendorId),
    productId: r.integer(obj, 'ProductId', 'Gadget', 0, 0xffff, DEFAULT_GADGET.productId),
    bcdDevice: r.integer(obj, 'BcdDevice', 'Gadget', 0, 0xffff, DEFAULT_GADGET.bcdDevice),
    manufacturer: text('Manufacturer', DEFAULT_GADGET.manufacturer),
    product: text('Product', DEFAULT_GADGET.product),
    serialNumberPrefix: text('SerialNumberPrefix', DEFAULT_GADGET.serialNumberPrefix),
  };
}

function parseNbdkit(r: FieldReader, obj: Record<string, unknown>): NbdkitTuning {
  r.onlyKnownKeys(obj, ['HttpsFilters', 'HttpsFilterParams', 'HttpTimeout', 'HttpConnections', 'CacheMiB'], 'Nbdkit');
  // Explicit filters replace the derived choice (media/https-streaming.ts) entirely.
  const explicit = obj.HttpsFilters !== undefined || obj.HttpsFilterParams !== undefined;
  return {
    httpsFilters: explicit ? r.stringList(obj, 'HttpsFilters', 'Nbdkit', [], /^[a-z][a-z0-9-]{0,31}$/) : undefined,
    // Filter parameters are key=value; a key may not collide with the curl plugin's (checked by nbdkit itself).
    httpsFilterParams: explicit ? r.stringList(obj, 'HttpsFilterParams', 'Nbdkit', [], /^[a-z][a-z0-9-]{0,63}=[^\s]{0,256}$/) : undefined,
    httpTimeout: r.integer(obj, 'HttpTimeout', 'Nbdkit', 1, 3600, DEFAULT_NBDKIT.httpTimeout),
    httpConnections: r.integer(obj, 'HttpConnections', 'Nbdkit', 1, 64, DEFAULT_NBDKIT.httpConnections),
    cacheMiB: r.integer(obj, 'CacheMiB', 'Nbdkit', 0, 4096, DEFAULT_NBDKIT.cacheMiB),
  };
}

function parseBlockDevice(r: FieldReader, obj: Record<string, unknown>): BlockDeviceTuning {
  r.onlyKnownKeys(obj, ['ReadAheadKiB', 'MaxRequestKiB'], 'BlockDevice');
  return {
    readAheadKiB: r.integer(obj, 'ReadAheadKiB', 'BlockDevice', 0, 65536, DEFAULT_BLOCK_DEVICE.readAheadKiB),
    // The nbd driver's hardware limit is 32 MiB (65536 sectors).
    maxRequestKiB: r.integer(obj, 'MaxRequestKiB', 'BlockDevice', 4, 32768, DEFAULT_BLOCK_DEVICE.maxRequestKiB),
  };
}
