// The generated server classes, implemented: Proxy and Legacy forward to
// the mount point's state machine; Process, MountPoint and Stats only hold
// properties, which the view below keeps true.
import * as rt from '../../../codegen/runtime/index.js';
import { LegacyServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Legacy/server.js';
import { LegacySpec, interfaceName as legacyInterface } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Legacy/common.js';
import { ProxyServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Proxy/server.js';
import type { MountPoint } from '../mountpoint/mount-point.js';
import { asDbusError } from './errors.js';
import { legacyMount, type FdArgument } from './legacy-mount.js';

export class ProxyInterface extends ProxyServer {
  constructor(
    private readonly mp: MountPoint,
    log: rt.Logger,
  ) {
    super({ log });
  }

  Mount(): boolean {
    try {
      this.mp.reserve();
    } catch (e) {
      throw asDbusError(e);
    }
    return this.mp.startMount({ kind: 'proxy' });
  }

  Unmount(): boolean {
    try {
      return this.mp.unmount();
    } catch (e) {
      throw asDbusError(e);
    }
  }
}

export class LegacyInterface extends LegacyServer {
  constructor(
    private readonly mp: MountPoint,
    log: rt.Logger,
  ) {
    super({ log });
  }

  Mount(imageURL: string, readWrite: boolean, fileDescriptor: FdArgument): Promise<boolean> {
    return legacyMount(this.mp, imageURL, readWrite, fileDescriptor);
  }

  Unmount(): boolean {
    try {
      return this.mp.unmount();
    } catch (e) {
      throw asDbusError(e);
    }
  }
}

// bmcweb (since 2025) sends the credentials fd as a bare `h`: Mount(sbh).
const yamlMount = LegacySpec.methods.find((m) => m.name === 'Mount')!;
const bmcwebMount: rt.MethodSpec = {
  ...yamlMount,
  inArgs: [yamlMount.inArgs[0]!, yamlMount.inArgs[1]!, { name: 'FileDescriptor', codec: rt.unixfd }],
};
rt.addMethodOverload(LegacyInterface, bmcwebMount, legacyInterface, (self, args) => {
  const [url, readWrite, fd] = args as [string, boolean, number];
  return (self as LegacyInterface).Mount(url, readWrite, { type: 'unixfd', value: fd });
});
