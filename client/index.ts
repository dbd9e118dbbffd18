// The typed client library for other TypeScript services on the BMC:
// everything needed to drive xyz.openbmc_project.VirtualMedia from another
// process, as `import { Connection, LegacyClient } from 'openbmc-virtual-media-client'`
// (the npm package, and the package the image's virtual-media-client recipe installs).
export { Connection, getManagedObjects, DBusError, StandardError, type ConnectOptions, type CallOptions, type Subscription, type ManagedObjects } from '../codegen/runtime/index.js';
export * as Process from '../bindings/xyz/openbmc_project/VirtualMedia/Process/common.js';
export * as MountPoint from '../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/common.js';
export * as Stats from '../bindings/xyz/openbmc_project/VirtualMedia/Stats/common.js';
export * as Proxy from '../bindings/xyz/openbmc_project/VirtualMedia/Proxy/common.js';
export * as Legacy from '../bindings/xyz/openbmc_project/VirtualMedia/Legacy/common.js';
export { ProcessClient } from '../bindings/xyz/openbmc_project/VirtualMedia/Process/client.js';
export { MountPointClient } from '../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/client.js';
export { StatsClient } from '../bindings/xyz/openbmc_project/VirtualMedia/Stats/client.js';
export { ProxyClient } from '../bindings/xyz/openbmc_project/VirtualMedia/Proxy/client.js';
export { LegacyClient } from '../bindings/xyz/openbmc_project/VirtualMedia/Legacy/client.js';
export { InternalFailure, InvalidArgument, NotAllowed } from '../bindings/xyz/openbmc_project/Common/error.js';
export { Busy } from '../bindings/xyz/openbmc_project/VirtualMedia/error.js';

/** The service's bus name and where its objects live. */
export const SERVICE = 'xyz.openbmc_project.VirtualMedia';
export const ROOT_PATH = '/xyz/openbmc_project/VirtualMedia';
export const proxyPath = (id: string) => `${ROOT_PATH}/Proxy/${id}`;
export const legacyPath = (id: string) => `${ROOT_PATH}/Legacy/${id}`;
