// A small reader for D-Bus introspection XML, enough to compare the XML the
// generator writes as docs with what a running server answers: one line per
// member (kind, name, attributes, args in order, annotations as a set).
// The input has been validated against the introspect DTD elsewhere.

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** The members of `interfaceName` in `xml`, normalised and sorted. */
export function interfaceMembers(xml: string, interfaceName: string): string[] {
  const start = xml.indexOf(`<interface name="${interfaceName}"`);
  if (start < 0) return [];
  const end = xml.indexOf('</interface>', start);
  const body = xml.slice(start, end < 0 ? undefined : end);
  const members: { head: string; args: string[]; notes: string[] }[] = [];
  for (const m of body.matchAll(/<(method|signal|property|arg|annotation)\b([^>]*?)\/?>/g)) {
    const [, tag, attrText] = m;
    const attrs = attributes(attrText!);
    if (tag === 'arg') members.at(-1)?.args.push(`${attrs.name ?? ''}:${attrs.type}:${attrs.direction ?? ''}`);
    else if (tag === 'annotation') members.at(-1)?.notes.push(`${attrs.name}=${attrs.value}`);
    else {
      const { name, ...rest } = attrs;
      members.push({ head: `${tag} ${name} ${JSON.stringify(rest, Object.keys(rest).sort())}`, args: [], notes: [] });
    }
  }
  return members.map((x) => `${x.head} args[${x.args.join(' ')}] notes[${x.notes.sort().join(' ')}]`).sort();
}
