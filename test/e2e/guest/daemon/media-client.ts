// One mount point as bmcweb sees it, through the generated typed clients
// only: Legacy or Proxy for Mount/Unmount and Completion, Process, MountPoint
// and Stats for the properties. Completions and property changes are queued
// from the moment of opening, so none is missed between a call and the wait.
import * as rt from '../../../../codegen/runtime/index.js';
import { LegacyClient } from '../../../../bindings/xyz/openbmc_project/VirtualMedia/Legacy/client.js';
import { MountPointClient } from '../../../../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/client.js';
import { ProcessClient } from '../../../../bindings/xyz/openbmc_project/VirtualMedia/Process/client.js';
import { ProxyClient } from '../../../../bindings/xyz/openbmc_project/VirtualMedia/Proxy/client.js';
import { StatsClient } from '../../../../bindings/xyz/openbmc_project/VirtualMedia/Stats/client.js';

export const SERVICE = 'xyz.openbmc_project.VirtualMedia';
export const ROOT = '/xyz/openbmc_project/VirtualMedia';

export interface Event {
  at: number;
  what: string;
  value: unknown;
}

export class Medium {
  readonly events: Event[] = [];
  readonly #completions: { at: number; errno: number }[] = [];
  #wake: (() => void) | undefined;
  readonly #subscriptions: rt.Subscription[] = [];

  private constructor(
    readonly kind: 'Legacy' | 'Proxy',
    readonly id: string,
    readonly legacy: LegacyClient | undefined,
    readonly proxy: ProxyClient | undefined,
    readonly process: ProcessClient,
    readonly mountPoint: MountPointClient,
    readonly stats: StatsClient,
  ) {}

  static async open(connection: rt.Connection, kind: 'Legacy' | 'Proxy', id: string): Promise<Medium> {
    const path = `${ROOT}/${kind}/${id}`;
    const m = new Medium(
      kind,
      id,
      kind === 'Legacy' ? new LegacyClient(connection, SERVICE, path) : undefined,
      kind === 'Proxy' ? new ProxyClient(connection, SERVICE, path) : undefined,
      new ProcessClient(connection, SERVICE, path),
      new MountPointClient(connection, SERVICE, path),
      new StatsClient(connection, SERVICE, path),
    );
    const onCompletion = (errno: number): void => {
      m.#completions.push({ at: Date.now(), errno });
      m.events.push({ at: Date.now(), what: 'Completion', value: errno });
      m.#wake?.();
    };
    m.#subscriptions.push(await (m.legacy ?? m.proxy)!.onCompletion(onCompletion));
    m.#subscriptions.push(
      await m.process.onPropertiesChanged((changed) => {
        for (const [k, v] of Object.entries(changed)) m.events.push({ at: Date.now(), what: k, value: v });
      }),
    );
    m.#subscriptions.push(
      await m.mountPoint.onPropertiesChanged((changed) => {
        for (const [k, v] of Object.entries(changed)) m.events.push({ at: Date.now(), what: k, value: v });
      }),
    );
    return m;
  }

  async close(): Promise<void> {
    for (const s of this.#subscriptions.splice(0)) await s.unsubscribe();
  }

  /** Completions not yet taken. */
  get pendingCompletions(): number {
    return this.#completions.length;
  }

  /** The next Completion's errno; throws after ms. */
  async nextCompletion(ms: number): Promise<{ errno: number; at: number }> {
    const deadline = Date.now() + ms;
    while (this.#completions.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no Completion signal from ${this.kind}/${this.id} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#completions.shift()!;
  }

  async mountLegacy(url: string, readWrite: boolean, fd?: number): Promise<boolean> {
    if (!this.legacy) throw new Error(`${this.id} is not a Legacy mount point`);
    return this.legacy.Mount(url, readWrite, fd === undefined ? { type: 'int32', value: -1 } : { type: 'unixfd', value: fd });
  }

  async mountProxy(): Promise<boolean> {
    if (!this.proxy) throw new Error(`${this.id} is not a Proxy mount point`);
    return this.proxy.Mount();
  }

  async unmount(): Promise<boolean> {
    return (this.legacy ?? this.proxy)!.Unmount();
  }

  /** Mount already started: waits for its Completion and insists on 0. Returns ms from `since`. */
  async expectCompletion(what: string, since: number, ms = 60_000): Promise<number> {
    const c = await this.nextCompletion(ms);
    if (c.errno !== 0) throw new Error(`${what}: Completion(${c.errno}), expected 0`);
    return c.at - since;
  }
}
