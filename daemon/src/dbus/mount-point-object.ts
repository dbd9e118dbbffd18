// One D-Bus object per mount point: .../VirtualMedia/Proxy/<id> or
// .../Legacy/<id>, with Process, MountPoint, Stats and Proxy or Legacy.
import type * as rt from '../../../codegen/runtime/index.js';
import { MountPointServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/server.js';
import { ProcessServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Process/server.js';
import { StatsServer } from '../../../bindings/xyz/openbmc_project/VirtualMedia/Stats/server.js';
import { Mode, type MountPointConfig } from '../config/types.js';
import type { MountPointView } from '../mountpoint/view.js';
import { LegacyInterface, ProxyInterface } from './interfaces.js';
import type { MountPoint } from '../mountpoint/mount-point.js';

export const ROOT_PATH = '/xyz/openbmc_project/VirtualMedia';

export function objectPath(mp: MountPointConfig): string {
  return `${ROOT_PATH}/${mp.mode === Mode.Proxy ? 'Proxy' : 'Legacy'}/${mp.id}`;
}

export class MountPointObject implements MountPointView {
  readonly process: ProcessServer;
  readonly mountPoint: MountPointServer;
  readonly stats: StatsServer;
  control!: ProxyInterface | LegacyInterface;
  readonly #log: rt.Logger;

  constructor(
    readonly config: MountPointConfig,
    log: rt.Logger,
  ) {
    this.process = new ProcessServer({ log, initial: { Active: false, ExitCode: 0 } });
    this.mountPoint = new MountPointServer({
      log,
      initial: {
        EndPointId: config.endpointId,
        EndpointId: config.endpointId,
        Mode: config.mode,
        Device: `/dev/${config.nbdDevice}`,
        Socket: config.unixSocket,
        Timeout: config.timeout,
        BlockSize: config.blockSize,
        RemainingInactivityTimeout: 0,
        ImageURL: '',
        WriteProtected: true,
      },
    });
    this.stats = new StatsServer({ log, initial: { ReadIO: 0n, WriteIO: 0n } });
    this.#log = log;
  }

  /** Connects the state machine (built with this object as its view) and creates Proxy or Legacy. */
  attach(machine: MountPoint): void {
    this.control = this.config.mode === Mode.Proxy ? new ProxyInterface(machine, this.#log) : new LegacyInterface(machine, this.#log);
  }

  get path(): string {
    return objectPath(this.config);
  }

  interfaces(): rt.ServerInterface[] {
    return [this.process, this.mountPoint, this.stats, this.control] as unknown as rt.ServerInterface[];
  }

  setActive(active: boolean): void {
    this.process.Active = active;
  }

  setExitCode(code: number): void {
    this.process.ExitCode = code;
  }

  setMedium(imageUrl: string, writeProtected: boolean): void {
    this.mountPoint.ImageURL = imageUrl;
    this.mountPoint.WriteProtected = writeProtected;
  }

  setRemainingInactivityTimeout(seconds: number): void {
    this.mountPoint.RemainingInactivityTimeout = seconds;
  }

  setIo(readIo: bigint, writeIo: bigint): void {
    this.stats.ReadIO = readIo;
    this.stats.WriteIO = writeIo;
  }

  completion(errno: number): void {
    this.control.emitCompletion(errno);
  }
}
