// Drives bmcweb.py (python3-dbus) from the tests: one JSON request per line,
// one JSON reply per line. It plays bmcweb, so the D-Bus calls the daemon sees
// come from libdbus, not from our runtime.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./bmcweb.py', import.meta.url));
/** Debian's python3 (python3-dbus lives there), not a pyenv one earlier in PATH. */
const PYTHON = '/usr/bin/python3';

export type Reply<T = unknown> = { ok: T } | { error: string; message: string };

export class BmcwebReplay {
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];
  #stderr = '';

  private constructor(address: string) {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install the Debian packages python3 and python3-dbus (npm run bootstrap does this)`);
    this.#child = spawn(PYTHON, [SCRIPT, address], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    this.#lines = createInterface({ input: this.#child.stdout! });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  static async start(address: string): Promise<BmcwebReplay> {
    const replay = new BmcwebReplay(address);
    const first = JSON.parse(await replay.#next(15_000)) as { ready?: boolean; fatal?: string };
    if (!first.ready) throw new Error(first.fatal ?? 'bmcweb.py did not start');
    return replay;
  }

  /** Sends one request; resolves with its reply (a D-Bus error is a reply too). */
  async request<T = unknown>(op: string, args: Record<string, unknown> = {}, ms = 60_000): Promise<Reply<T>> {
    const line = this.#next(ms);
    this.#child.stdin!.write(JSON.stringify({ op, ...args }) + '\n');
    return JSON.parse(await line) as Reply<T>;
  }

  /** The reply's value; throws naming the D-Bus error otherwise. */
  async ok<T = unknown>(op: string, args: Record<string, unknown> = {}, ms?: number): Promise<T> {
    const reply = await this.request<T>(op, args, ms);
    if ('error' in reply) throw new Error(`bmcweb ${op} failed: ${reply.error}: ${reply.message}`);
    return reply.ok;
  }

  async stop(): Promise<void> {
    this.#child.stdin!.end();
    if (this.#child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
        this.#child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #next(ms: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bmcweb.py gave no reply within ${ms} ms; stderr:\n${this.#stderr}`)), ms);
      this.#waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }
}
