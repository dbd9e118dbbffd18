// One markdown page per interface, for people reading the API rather than
// the code.
import type { Arg, DefaultValue, InterfaceDef } from '../model.js';
import { dbusSignature, typeText, type Abi } from './type-mapping.js';
import { GENERATED_COMMENT } from './context.js';

const cell = (s: string) => s.trim().replace(/\s+/g, ' ').replace(/\|/g, '\\|');

function args(list: readonly Arg[], abi: Abi): string {
  return list.map((a) => `\`${a.name}\` ${typeText(a.type, abi)} (\`${dbusSignature(a.type, abi)}\`)`).join(', ') || '—';
}

function defaultText(d: DefaultValue): string {
  if (d.kind === 'array') return `{${d.elements.map(defaultText).join(', ')}}`;
  if (d.kind === 'variant') return defaultText(d.value);
  return d.kind === 'special' ? d.name : String(d.value);
}

export function emitDocs(iface: InterfaceDef, abi: Abi): string {
  const out: string[] = [GENERATED_COMMENT(`${iface.name.split('.').join('/')}.interface.yaml`), '', `# ${iface.name}`, '', iface.description.trim(), ''];
  if (iface.serviceNames.length) {
    out.push('Service names: ' + iface.serviceNames.map((s) => `\`${s.value}\` (${s.kind})`).join(', '), '');
  }
  if (iface.paths.length) {
    out.push('## Object paths', '');
    for (const p of iface.paths) {
      out.push(`- ${p.kind === 'named' ? p.name : p.kind} \`${p.value}\`${p.description ? `: ${cell(p.description)}` : ''}`);
      if (p.kind !== 'instance') for (const s of p.segments) out.push(`  - segment \`${s.name}\` = \`${s.value}\`${s.description ? `: ${cell(s.description)}` : ''}`);
    }
    out.push('');
  }
  if (iface.methods.length) {
    out.push('## Methods', '', '| Name | Parameters | Returns | Errors | Flags | Description |', '| --- | --- | --- | --- | --- | --- |');
    for (const m of iface.methods) {
      out.push(`| ${m.name} | ${args(m.parameters, abi)} | ${args(m.returns, abi)} | ${m.errors.map((e) => `\`${e}\``).join('<br>') || '—'} | ${m.flags.join(', ') || '—'} | ${cell(m.description)} |`);
    }
    out.push('');
  }
  if (iface.properties.length) {
    out.push('## Properties', '', '| Name | Type | Signature | Default | Flags | Description |', '| --- | --- | --- | --- | --- | --- |');
    for (const p of iface.properties) {
      const def = p.default ? defaultText(p.default) : '—';
      out.push(`| ${p.name} | ${typeText(p.type, abi)} | \`${dbusSignature(p.type, abi)}\` | ${cell(def)} | ${p.flags.join(', ') || 'writable'} | ${cell(p.description)} |`);
    }
    out.push('');
  }
  if (iface.signals.length) {
    out.push('## Signals', '', '| Name | Arguments | Description |', '| --- | --- | --- |');
    for (const s of iface.signals) out.push(`| ${s.name} | ${args(s.properties, abi)} | ${cell(s.description)} |`);
    out.push('');
  }
  for (const e of iface.enumerations) {
    out.push(`## Enumeration ${e.name}`, '', cell(e.description), '', `On the bus: \`${iface.name}.${e.name}.<Value>\``, '', '| Value | Description |', '| --- | --- |');
    for (const v of e.values) out.push(`| ${v.name} | ${cell(v.description)} |`);
    out.push('');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}
