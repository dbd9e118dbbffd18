// Runs the real busctl against a private bus and reads its output; plus the
// introspection busctl should show, worked out from the parsed YAML with the
// rules sdbus++/sd-bus apply (written here independently of the generator).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { InterfaceDef, TypeNode } from '../../../codegen/src/model.js';
import { requireCommand } from '../../support/require-command.js';

const execFileAsync = promisify(execFile);

export interface BusctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * busctl must run asynchronously: the services answering it live in this
 * very process. `--` before the positional arguments keeps negative numbers
 * from being read as options.
 */
export async function busctl(address: string, command: string, positional: string[], options: string[] = []): Promise<BusctlResult> {
  const path = requireCommand('busctl', 'systemd');
  try {
    const { stdout, stderr } = await execFileAsync(path, [`--address=${address}`, '--no-pager', ...options, command, '--', ...positional], {
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export async function busctlOk(address: string, command: string, positional: string[], options: string[] = []): Promise<string> {
  const r = await busctl(address, command, positional, options);
  if (r.code !== 0) throw new Error(`busctl ${command} ${positional.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** `busctl --json=short`: { type, data }. */
export async function busctlJson(address: string, command: string, positional: string[]): Promise<{ type: string; data: any }> {
  return JSON.parse(await busctlOk(address, command, positional, ['--json=short'])) as { type: string; data: any };
}

/** One row of `busctl introspect`. */
export interface IntrospectRow {
  name: string;
  type: 'interface' | 'method' | 'property' | 'signal';
  signature: string;
  value: string;
  flags: string[];
}

/** Parses `busctl introspect`'s table by the header's column positions (values may contain spaces). */
export function parseIntrospect(text: string): Map<string, IntrospectRow[]> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift() ?? '';
  const col = (title: string) => {
    const at = header.indexOf(title);
    if (at < 0) throw new Error(`busctl introspect header has no ${title}: ${header}`);
    return at;
  };
  const [type, signature, value, flags] = [col('TYPE'), col('SIGNATURE'), col('RESULT/VALUE'), col('FLAGS')];
  const byInterface = new Map<string, IntrospectRow[]>();
  let current: IntrospectRow[] = [];
  for (const line of lines) {
    const row: IntrospectRow = {
      name: line.slice(0, type).trim(),
      type: line.slice(type, signature).trim() as IntrospectRow['type'],
      signature: line.slice(signature, value).trim(),
      value: line.slice(value, flags).trim(),
      flags: line.slice(flags).trim() === '-' ? [] : line.slice(flags).trim().split(/\s+/).sort(),
    };
    if (row.type === 'interface') byInterface.set(row.name, (current = []));
    else current.push({ ...row, name: row.name.replace(/^\./, '') });
  }
  return byInterface;
}

const PRIMITIVE_SIGNATURES: Record<string, string> = {
  byte: 'y', boolean: 'b', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', int64: 'x', uint64: 't',
  double: 'd', unixfd: 'h', string: 's', object_path: 'o', signature: 'g', size: 't', ssize: 'x',
};

/** The D-Bus signature of a PDI type on a 64-bit BMC (FACTS §3). */
export function signature(t: TypeNode): string {
  switch (t.kind) {
    case 'primitive':
      return PRIMITIVE_SIGNATURES[t.name]!;
    case 'array':
    case 'set':
      return `a${signature(t.element)}`;
    case 'dict':
      return `a{${signature(t.key)}${signature(t.value)}}`;
    case 'struct':
      return `(${t.members.map(signature).join('')})`;
    case 'variant':
      return 'v';
    case 'enum':
      return 's'; // enums travel as strings
  }
}

const sig = (args: { type: TypeNode }[]) => args.map((a) => signature(a.type)).join('') || '-';

/**
 * What `busctl introspect` must list for one interface, from the YAML:
 * hidden members left out; sdbus++ puts emits_change on a property only when
 * its flags are empty or just `readonly` (any other flag replaces the
 * default), so change signalling follows the flags as written.
 */
export function expectedRows(iface: InterfaceDef): Omit<IntrospectRow, 'value'>[] {
  const rows: Omit<IntrospectRow, 'value'>[] = [];
  for (const m of iface.methods.filter((x) => !x.flags.includes('hidden'))) {
    const flags = [...(m.flags.includes('deprecated') ? ['deprecated'] : []), ...(m.flags.includes('no_reply') ? ['no-reply'] : [])];
    rows.push({ name: m.name, type: 'method', signature: `${sig(m.parameters)}|${sig(m.returns)}`, flags: flags.sort() });
  }
  for (const p of iface.properties.filter((x) => !x.flags.includes('hidden'))) {
    const f = p.flags;
    const flags: string[] = [];
    if (f.includes('deprecated')) flags.push('deprecated');
    if (f.includes('const')) flags.push('const');
    else if (f.includes('emits_invalidation')) flags.push('emits-invalidation');
    else if (f.includes('emits_change') || f.every((x) => x === 'readonly')) flags.push('emits-change');
    if (!f.includes('const') && !f.includes('readonly')) flags.push('writable');
    rows.push({ name: p.name, type: 'property', signature: signature(p.type), flags: flags.sort() });
  }
  for (const s of iface.signals.filter((x) => !x.flags.includes('hidden'))) {
    rows.push({ name: s.name, type: 'signal', signature: sig(s.properties), flags: s.flags.includes('deprecated') ? ['deprecated'] : [] });
  }
  return rows.sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}

/** The rows busctl printed for an interface, in the same shape as expectedRows (method signatures as in|out). */
export function actualRows(rows: IntrospectRow[]): Omit<IntrospectRow, 'value'>[] {
  const out: Omit<IntrospectRow, 'value'>[] = [];
  for (const r of rows) {
    const signatureText = r.type === 'method' ? `${r.signature}|${r.value}` : r.signature;
    out.push({ name: r.name, type: r.type, signature: signatureText, flags: r.flags });
  }
  return out.sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}

export interface MonitoredMessage {
  type: string;
  path: string;
  interface: string;
  member: string;
  payload: { type: string; data: any[] };
}

/**
 * `busctl monitor --json=short SERVICE` in the background. busctl needs a
 * moment to become a monitor, so `until` repeats an action until a matching
 * message has been seen.
 */
export function monitor(address: string, service: string) {
  const path = requireCommand('busctl', 'systemd');
  const child = spawn(path, [`--address=${address}`, '--json=short', 'monitor', service], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffer = '';
  const messages: MonitoredMessage[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) messages.push(JSON.parse(line) as MonitoredMessage);
  });
  return {
    messages,
    async until(action: () => Promise<unknown>, seen: (m: MonitoredMessage) => boolean, ms = 5000): Promise<MonitoredMessage> {
      const end = Date.now() + ms;
      for (;;) {
        await action();
        await new Promise((r) => setTimeout(r, 100));
        const hit = messages.find(seen);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`busctl monitor saw no matching message; saw ${messages.map((m) => m.member).join(', ')}`);
      }
    },
    stop(): Promise<void> {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      });
    },
  };
}
