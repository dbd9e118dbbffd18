// Access control as on a BMC: the layer's D-Bus policy lets only root and
// the bmcweb user call Mount/Unmount; anyone else may read. The caller here
// is busctl (systemd's own D-Bus client) run as nobody (uid 65534), on the
// real system dbus-daemon that loaded the installed policy file.
import { ROOT, SERVICE } from './media-client.js';
import { run } from './kernel-view.js';
import type { Context, Measures } from './scenarios.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

async function busctl(asNobody: boolean, args: string[]): Promise<{ ok: boolean; out: string }> {
  // '--': arguments such as -1 are values, not options.
  const argv = [...(asNobody ? NOBODY : []), 'busctl', '--system', '--', ...args];
  try {
    const { stdout } = await run('setpriv', argv);
    return { ok: true, out: stdout.trim() };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${err.stderr ?? ''}${err.stdout ?? ''}`.trim() || err.message };
  }
}

/** dbus-daemon's refusal (org.freedesktop.DBus.Error.AccessDenied), as busctl prints it. */
const REFUSED = /Rejected send message|Access denied/i;

export async function policy(c: Context): Promise<Measures> {
  const path = `${ROOT}/Legacy/${c.legacy.id}`;
  const proxyPath = `${ROOT}/Proxy/${c.proxy.id}`;
  // Reading is allowed: properties and GetManagedObjects.
  const imageUrl = await busctl(true, ['get-property', SERVICE, path, 'xyz.openbmc_project.VirtualMedia.MountPoint', 'ImageURL']);
  if (!imageUrl.ok) throw new Error(`nobody cannot read MountPoint.ImageURL: ${imageUrl.out}`);
  const managed = await busctl(true, ['call', SERVICE, ROOT, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects']);
  if (!managed.ok) throw new Error(`nobody cannot call GetManagedObjects: ${managed.out}`);
  // Mount and Unmount are refused by the bus, before the daemon sees them.
  const calls: [string, string[]][] = [
    ['Legacy.Mount', ['call', SERVICE, path, 'xyz.openbmc_project.VirtualMedia.Legacy', 'Mount', 'sbv', 'https://localhost/x.iso', 'false', 'i', '-1']],
    ['Legacy.Unmount', ['call', SERVICE, path, 'xyz.openbmc_project.VirtualMedia.Legacy', 'Unmount']],
    ['Proxy.Mount', ['call', SERVICE, proxyPath, 'xyz.openbmc_project.VirtualMedia.Proxy', 'Mount']],
    ['Proxy.Unmount', ['call', SERVICE, proxyPath, 'xyz.openbmc_project.VirtualMedia.Proxy', 'Unmount']],
  ];
  for (const [what, args] of calls) {
    const r = await busctl(true, args);
    if (r.ok) throw new Error(`${what} as nobody was allowed: ${r.out}`);
    if (!REFUSED.test(r.out)) throw new Error(`${what} as nobody failed, but not with the bus's AccessDenied: ${r.out}`);
  }
  // The same Unmount as root reaches the daemon, which answers it (nothing is inserted: NotAllowed).
  const asRoot = await busctl(false, calls[1]![1]);
  if (asRoot.ok || REFUSED.test(asRoot.out)) throw new Error(`Legacy.Unmount as root should reach the daemon and fail with NotAllowed: ${asRoot.out}`);
  return { refusedAsNobody: calls.length, rootUnmountError: asRoot.out.split('\n')[0] };
}
