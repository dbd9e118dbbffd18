// The daemon put together: stale state cleaned, objects exported under an
// ObjectManager, and only then the bus name requested (systemd's Type=dbus
// and bmcweb's mapper look-up then find a complete service).
import * as rt from '../../codegen/runtime/index.js';
import type { Config } from './config/types.js';
import { MountPointObject, ROOT_PATH } from './dbus/mount-point-object.js';
import { MountPoint } from './mountpoint/mount-point.js';
import { cleanStaleState } from './recovery/stale-state.js';
import { GadgetSeam } from './seams/gadget.js';
import { describeFeatures, probeNbdkit, type NbdkitFeatures } from './seams/nbdkit-probe.js';
import type { Logger } from './util/logger.js';

export const BUS_NAME = 'xyz.openbmc_project.VirtualMedia';
const DBUS_NAME_FLAG_DO_NOT_QUEUE = 4;
const PRIMARY_OWNER = 1;
// Loading the curl plugin (libcurl, OpenSSL) took over 10 s in a starved
// software-emulated VM; on a BMC it is well under a second.
const PROBE_TIMEOUT_MS = 30_000;

export interface BusChoice {
  readonly bus: 'system' | 'session';
  readonly address: string | undefined;
}

export class Daemon {
  readonly mountPoints: MountPoint[] = [];
  #connection: rt.Connection | undefined;
  readonly #warned = new Set<string>();
  #stopping = false;

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {}

  async start(bus: BusChoice): Promise<void> {
    const t0 = performance.now();
    const lap = (what: string) => this.log.debug(`start-up: ${what} at ${(performance.now() - t0).toFixed(1)} ms (process up ${(process.uptime() * 1000).toFixed(0)} ms)`);
    const gadget = new GadgetSeam(this.config.roots.configfs);
    await cleanStaleState(this.config, gadget, this.log);
    lap('stale state cleaned');
    // bmcweb's Legacy.Mount hands the credentials over as an fd: without fd
    // passing the daemon cannot do its job, so it refuses to start.
    const where = bus.address ? { address: bus.address } : { bus: bus.bus };
    const connection = await rt.Connection.open({ ...where, negotiateUnixFd: true });
    lap('bus connected');
    this.#connection = connection;
    const server = new rt.ObjectServer(connection, { log: this.log });
    server.addManager(ROOT_PATH);
    const env = {
      config: this.config,
      gadget,
      log: this.log,
      nbdkitFeatures: () => this.#nbdkitFeatures(),
      warnOnce: (key: string, message: string) => this.#warnOnce(key, message),
    };
    for (const mpConfig of this.config.mountPoints) {
      const object = new MountPointObject(mpConfig, this.log);
      const machine = new MountPoint(mpConfig, env, object);
      object.attach(machine);
      server.add(object.path, ...object.interfaces());
      this.mountPoints.push(machine);
    }
    lap('objects exported');
    const reply = await connection.requestName(BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE);
    lap('name requested');
    // Asked once the service is up (not delaying the name), awaited by the first HTTPS insertion.
    void this.#nbdkitFeatures();
    if (reply !== PRIMARY_OWNER) throw new Error(`the bus name ${BUS_NAME} is owned by another process`);
    this.log.info(`serving ${this.config.mountPoints.length} mount points as ${BUS_NAME}`);
  }

  /**
   * Calls `onLost` once if the bus connection drops (dbus-daemon restarted):
   * without it the daemon would serve nobody, so the caller ejects and exits
   * for systemd to restart it. Polled: the runtime notices a closed stream
   * but has no event for it.
   */
  watchBus(onLost: () => void, intervalMs = 1000): void {
    const timer = setInterval(() => {
      if (this.#connection?.closed && !this.#stopping) {
        clearInterval(timer);
        onLost();
      }
    }, intervalMs);
    timer.unref();
  }

  /** Ejects everything, then leaves the bus. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#probeStop.abort();
    this.log.info('stopping: ejecting all media');
    await Promise.all(this.mountPoints.map((m) => m.shutdown()));
    await this.#connection?.close();
  }

  #features: Promise<NbdkitFeatures> | undefined;
  readonly #probeStop = new AbortController();
  #nbdkitFeatures(): Promise<NbdkitFeatures> {
    this.#features ??= probeNbdkit(this.config.commands.nbdkit, this.log, PROBE_TIMEOUT_MS, this.#probeStop.signal).then((f) => {
      this.log.info(describeFeatures(f));
      return f;
    });
    return this.#features;
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.log.warning(message);
  }
}
