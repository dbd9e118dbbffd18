// Introspection data for an interface, in the shape dbus-next's xml2js
// builder expects, with the annotations sd-bus writes (so busctl shows the
// same flags as for an sdbus++ server) and argument names.
import type { InterfaceSpec } from './spec.js';

type Xml = Record<string, unknown>;

const annotation = (name: string, value: string): Xml => ({ $: { name, value } });

export function introspectionOf(spec: InterfaceSpec): Xml {
  const xml: Xml = { $: { name: spec.name } };
  const methods = spec.methods.filter((m) => !m.hidden);
  if (methods.length) {
    xml.method = methods.map((m) => {
      const notes: Xml[] = [];
      if (m.deprecated) notes.push(annotation('org.freedesktop.DBus.Deprecated', 'true'));
      if (m.noReply) notes.push(annotation('org.freedesktop.DBus.Method.NoReply', 'true'));
      return {
        $: { name: m.name },
        arg: [
          ...m.inArgs.map((a) => ({ $: { name: a.name, type: a.codec.signature, direction: 'in' } })),
          ...m.outArgs.map((a) => ({ $: { name: a.name, type: a.codec.signature, direction: 'out' } })),
        ],
        ...(notes.length ? { annotation: notes } : {}),
      };
    });
  }
  const signals = spec.signals.filter((s) => !s.hidden);
  if (signals.length) {
    xml.signal = signals.map((s) => ({
      $: { name: s.name },
      arg: s.args.map((a) => ({ $: { name: a.name, type: a.codec.signature } })),
      ...(s.deprecated ? { annotation: [annotation('org.freedesktop.DBus.Deprecated', 'true')] } : {}),
    }));
  }
  const properties = spec.properties.filter((p) => !p.hidden);
  if (properties.length) {
    xml.property = properties.map((p) => {
      const notes: Xml[] = [];
      if (p.deprecated) notes.push(annotation('org.freedesktop.DBus.Deprecated', 'true'));
      if (p.explicit) notes.push(annotation('org.freedesktop.systemd1.Explicit', 'true'));
      if (p.emits !== 'true') notes.push(annotation('org.freedesktop.DBus.Property.EmitsChangedSignal', p.emits));
      return {
        $: { name: p.name, type: p.codec.signature, access: p.writable ? 'readwrite' : 'read' },
        ...(notes.length ? { annotation: notes } : {}),
      };
    });
  }
  return xml;
}
