// The Redfish calls a proxy-mode client needs: a SessionService session
// (X-Auth-Token), and the VirtualMedia members of the managers with
// bmcweb's Oem.OpenBMC.WebSocketEndpoint (redfish-core/lib/virtual_media.hpp).
import { request as httpsRequest, type Agent } from 'node:https';

export class RedfishError extends Error {}

export interface ProxySlot {
  /** Redfish Id (Slot_0). */
  id: string;
  /** The resource, /redfish/v1/Managers/bmc/VirtualMedia/Slot_0. */
  uri: string;
  /** bmcweb's websocket path for the slot, /nbd/0. */
  endpoint: string;
  inserted: boolean;
}

export interface Session {
  token: string;
  /** The session resource to DELETE at the end. */
  uri: string;
}

export class RedfishClient {
  private session: Session | undefined;

  constructor(
    readonly base: URL,
    private readonly agent: Agent,
    private readonly timeoutMs = 30_000,
  ) {}

  get token(): string | undefined {
    return this.session?.token;
  }

  async login(user: string, password: string): Promise<Session> {
    const r = await this.call('POST', '/redfish/v1/SessionService/Sessions', { UserName: user, Password: password });
    const token = r.headers['x-auth-token'];
    if (typeof token !== 'string' || !token) throw new RedfishError('POST /redfish/v1/SessionService/Sessions: no X-Auth-Token in the reply');
    const location = typeof r.headers.location === 'string' ? r.headers.location : (r.body as { '@odata.id'?: unknown })?.['@odata.id'];
    if (typeof location !== 'string') throw new RedfishError('POST /redfish/v1/SessionService/Sessions: the reply names no session resource (Location)');
    this.session = { token, uri: new URL(location, this.base).pathname };
    return this.session;
  }

  /** Deletes the session; safe to call when not logged in. */
  async logout(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    await this.call('DELETE', s.uri, undefined, s.token);
  }

  async get(path: string): Promise<Record<string, unknown>> {
    const r = await this.call('GET', path);
    if (typeof r.body !== 'object' || r.body === null) throw new RedfishError(`GET ${path}: the reply is not a JSON object`);
    return r.body as Record<string, unknown>;
  }

  /** Every VirtualMedia member of every manager that has a WebSocketEndpoint. */
  async proxySlots(): Promise<ProxySlot[]> {
    const slots: ProxySlot[] = [];
    for (const manager of members(await this.get('/redfish/v1/Managers'), '/redfish/v1/Managers')) {
      const m = await this.get(manager);
      const vmLink = (m.VirtualMedia as { '@odata.id'?: unknown } | undefined)?.['@odata.id'];
      const collection = typeof vmLink === 'string' ? vmLink : `${manager}/VirtualMedia`;
      let vm: Record<string, unknown>;
      try {
        vm = await this.get(collection);
      } catch (e) {
        if (e instanceof RedfishError && / 404 /.test(e.message)) continue; // a manager without virtual media
        throw e;
      }
      for (const uri of members(vm, collection)) {
        const item = await this.get(uri);
        const endpoint = (item.Oem as { OpenBMC?: { WebSocketEndpoint?: unknown } } | undefined)?.OpenBMC?.WebSocketEndpoint;
        if (typeof endpoint !== 'string' || !endpoint) continue;
        slots.push({ id: typeof item.Id === 'string' ? item.Id : uri.split('/').pop()!, uri, endpoint, inserted: item.Inserted === true });
      }
    }
    return slots;
  }

  /**
   * One request. A GET or DELETE sent on a kept-alive connection that the
   * BMC closed at that moment (its idle timeout) fails with a reset before
   * any reply: it is sent once more on a new connection. Other requests and
   * other failures are not repeated.
   */
  private async call(method: string, path: string, body?: unknown, token = this.session?.token): Promise<Reply> {
    try {
      return await this.callOnce(method, path, body, token);
    } catch (e) {
      if (!(e instanceof StaleConnection) || (method !== 'GET' && method !== 'DELETE')) throw e instanceof StaleConnection ? e.error : e;
      try {
        return await this.callOnce(method, path, body, token);
      } catch (again) {
        throw again instanceof StaleConnection ? again.error : again;
      }
    }
  }

  private callOnce(method: string, path: string, body: unknown, token: string | undefined): Promise<Reply> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            Accept: 'application/json',
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
            ...(token ? { 'X-Auth-Token': token } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size > 4 * 1024 * 1024) req.destroy(new RedfishError(`${method} ${url.pathname}: reply larger than 4 MiB`));
            else chunks.push(d);
          });
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            if (status < 200 || status > 299) {
              const message = (parsed as { error?: { message?: unknown } } | undefined)?.error?.message;
              reject(new RedfishError(`${method} ${url.pathname}: ${status} ${res.statusMessage ?? ''}${typeof message === 'string' ? ` (${message})` : ''}`.trim()));
              return;
            }
            resolve({ status, headers: res.headers, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new RedfishError(`${method} ${url.pathname}: no reply in ${this.timeoutMs / 1000} s`)));
      req.on('error', (e) => {
        const error = e instanceof RedfishError ? e : new RedfishError(`${method} ${url.href}: ${e.message}`);
        const reset = (e as NodeJS.ErrnoException).code === 'ECONNRESET';
        reject(req.reusedSocket && reset ? new StaleConnection(error) : error);
      });
      req.end(payload);
    });
  }
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A reset on a reused kept-alive connection before any reply. */
class StaleConnection extends Error {
  constructor(readonly error: RedfishError) {
    super(error.message);
  }
}

function members(collection: Record<string, unknown>, where: string): string[] {
  const list = collection.Members;
  if (!Array.isArray(list)) throw new RedfishError(`GET ${where}: no Members array`);
  return list.map((m) => (m as { '@odata.id'?: unknown })?.['@odata.id']).filter((x): x is string => typeof x === 'string');
}
