// Introspection XML as an sdbus++ server would answer it (argument names and
// sd-bus annotations included), for tools that want the contract as a file.
import type { InterfaceDef, PropertyDef } from '../model.js';
import { dbusSignature, type Abi } from './type-mapping.js';
import { emitsOf } from './common.js';
import { GENERATED_COMMENT } from './context.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const note = (name: string, value: string) => `      <annotation name="${name}" value="${value}"/>`;

function propertyNotes(p: PropertyDef): string[] {
  const notes: string[] = [];
  if (p.flags.includes('deprecated')) notes.push(note('org.freedesktop.DBus.Deprecated', 'true'));
  if (p.flags.includes('explicit')) notes.push(note('org.freedesktop.systemd1.Explicit', 'true'));
  const emits = emitsOf(p);
  if (emits !== 'true') notes.push(note('org.freedesktop.DBus.Property.EmitsChangedSignal', emits));
  return notes;
}

export function emitIntrospection(iface: InterfaceDef, abi: Abi): string {
  const out = [
    '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"',
    ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">',
    GENERATED_COMMENT(`${iface.name.split('.').join('/')}.interface.yaml`),
    '<node>',
    `  <interface name="${iface.name}">`,
  ];
  for (const m of iface.methods.filter((x) => !x.flags.includes('hidden'))) {
    out.push(`    <method name="${m.name}">`);
    for (const a of m.parameters) out.push(`      <arg name="${esc(a.name)}" type="${dbusSignature(a.type, abi)}" direction="in"/>`);
    for (const a of m.returns) out.push(`      <arg name="${esc(a.name)}" type="${dbusSignature(a.type, abi)}" direction="out"/>`);
    if (m.flags.includes('deprecated')) out.push(note('org.freedesktop.DBus.Deprecated', 'true'));
    if (m.flags.includes('no_reply')) out.push(note('org.freedesktop.DBus.Method.NoReply', 'true'));
    out.push('    </method>');
  }
  for (const s of iface.signals.filter((x) => !x.flags.includes('hidden'))) {
    out.push(`    <signal name="${s.name}">`);
    for (const a of s.properties) out.push(`      <arg name="${esc(a.name)}" type="${dbusSignature(a.type, abi)}"/>`);
    if (s.flags.includes('deprecated')) out.push(note('org.freedesktop.DBus.Deprecated', 'true'));
    out.push('    </signal>');
  }
  for (const p of iface.properties.filter((x) => !x.flags.includes('hidden'))) {
    const access = p.flags.includes('const') || p.flags.includes('readonly') ? 'read' : 'readwrite';
    const notes = propertyNotes(p);
    if (notes.length === 0) out.push(`    <property name="${p.name}" type="${dbusSignature(p.type, abi)}" access="${access}"/>`);
    else out.push(`    <property name="${p.name}" type="${dbusSignature(p.type, abi)}" access="${access}">`, ...notes, '    </property>');
  }
  out.push('  </interface>', '</node>', '');
  return out.join('\n');
}
