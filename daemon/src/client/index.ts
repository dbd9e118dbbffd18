// The typed client library for other BMC services written in TypeScript:
// the generated clients of the five VirtualMedia interfaces plus the names
// and paths under which this daemon serves them.
export { LegacyClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Legacy/client.js';
export { MountPointClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/client.js';
export { ProcessClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Process/client.js';
export { ProxyClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Proxy/client.js';
export { StatsClient } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Stats/client.js';
export { InternalFailure, InvalidArgument, NotAllowed } from '../../../bindings/xyz/openbmc_project/Common/error.js';
export { Busy } from '../../../bindings/xyz/openbmc_project/VirtualMedia/error.js';
export { Connection, getManagedObjects } from '../../../codegen/runtime/index.js';

/** The daemon's bus name. */
export const SERVICE_NAME = 'xyz.openbmc_project.VirtualMedia';
/** Where its ObjectManager is. */
export const ROOT_PATH = '/xyz/openbmc_project/VirtualMedia';

export function proxyPath(id: string): string {
  return `${ROOT_PATH}/Proxy/${id}`;
}

export function legacyPath(id: string): string {
  return `${ROOT_PATH}/Legacy/${id}`;
}
