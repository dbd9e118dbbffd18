// Opt-in network for a guest: a user-mode (slirp) NIC that reaches nothing
// outside (restrict=on) and only accepts what the host forwards to it from
// its own loopback, e.g. a browser on the host talking to a server in the
// guest, as an operator's browser talks to a BMC from another machine.
import { createServer } from 'node:net';

/** A guest TCP port reached from the host at 127.0.0.1:hostPort. */
export interface TcpForward {
  guestPort: number;
  /** Chosen free by runInVm when omitted; the result says which. */
  hostPort?: number;
}

export interface ResolvedForward {
  guestPort: number;
  hostPort: number;
}

/** slirp's default guest network; its guest address is the one hostfwd targets. */
export const GUEST_NET = '10.0.2.0/24';
export const GUEST_ADDRESS = '10.0.2.15';
/** What the guest gives its NIC (stage2.sh, E2E_NET_ADDRESS): static, no DHCP. */
export const GUEST_ADDRESS_CIDR = `${GUEST_ADDRESS}/24`;

/** A TCP port free on the host's loopback right now (the kernel's choice). */
export async function freeLocalTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port from the kernel');
  return address.port;
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`forwardTcp: ${what} ${port} is not a TCP port`);
}

/** Fills in free host ports; refuses bad or repeated ports. */
export async function resolveForwards(forwards: TcpForward[]): Promise<ResolvedForward[]> {
  const resolved: ResolvedForward[] = [];
  for (const f of forwards) {
    checkPort('guestPort', f.guestPort);
    if (f.hostPort !== undefined) checkPort('hostPort', f.hostPort);
    resolved.push({ guestPort: f.guestPort, hostPort: f.hostPort ?? (await freeLocalTcpPort()) });
  }
  for (const key of ['guestPort', 'hostPort'] as const) {
    const ports = resolved.map((f) => f[key]);
    const twice = ports.find((p, i) => ports.indexOf(p) !== i);
    if (twice !== undefined) throw new Error(`forwardTcp: ${key} ${twice} appears twice`);
  }
  return resolved;
}

/**
 * qemu arguments for the NIC: virtio-net (the guest loads virtio_net) on a
 * restricted user-mode network, one hostfwd per port bound to the host's
 * loopback only. No option ROM (romfile=): nothing boots from the network,
 * and the ipxe ROM package need not be installed.
 */
export function nicArgs(forwards: ResolvedForward[]): string[] {
  if (forwards.length === 0) return ['-nic', 'none'];
  const hostfwd = forwards.map((f) => `hostfwd=tcp:127.0.0.1:${f.hostPort}-${GUEST_ADDRESS}:${f.guestPort}`);
  return [
    '-netdev', ['user', 'id=e2e-net', 'restrict=on', `net=${GUEST_NET}`, ...hostfwd].join(','),
    '-device', 'virtio-net-pci,netdev=e2e-net,romfile=',
  ];
}
