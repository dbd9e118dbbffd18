// Stands in for the xml2js package inside the daemon bundle. dbus-next loads
// xml2js (with xmlbuilder and sax, ~7 MiB of resident memory on Node 20) for
// two things: Builder, which writes Introspect replies, and Parser, which
// client proxy objects use to read other services' introspection, something
// the daemon never does. This Builder writes the same text xml2js does for
// the objects dbus-next gives it (test/daemon/xml2js-lite.test.ts compares
// them); Parser refuses loudly.

type XmlValue = string | number | boolean | XmlObject | XmlValue[] | null | undefined;
interface XmlObject {
  [key: string]: XmlValue;
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
const escapeAttribute = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');

function element(name: string, value: XmlValue, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  if (Array.isArray(value)) {
    for (const item of value) element(name, item, depth, out);
    return;
  }
  if (value === null || value === undefined || typeof value !== 'object') {
    const text = value === null || value === undefined ? '' : String(value);
    out.push(text === '' ? `${pad}<${name}/>` : `${pad}<${name}>${escapeText(text)}</${name}>`);
    return;
  }
  const attributes = (value.$ ?? {}) as Record<string, XmlValue>;
  const attrText = Object.entries(attributes)
    .map(([k, v]) => ` ${k}="${escapeAttribute(String(v))}"`)
    .join('');
  const children: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === '$') continue;
    element(key, child, depth + 1, children);
  }
  if (children.length === 0) out.push(`${pad}<${name}${attrText}/>`);
  else out.push(`${pad}<${name}${attrText}>`, ...children, `${pad}</${name}>`);
}

export class Builder {
  constructor(readonly options: { headless?: boolean } = {}) {}

  buildObject(root: Record<string, unknown>): string {
    const out: string[] = [];
    const [name, value] = Object.entries(root)[0] ?? ['root', ''];
    element(name, value as XmlValue, 0, out);
    const body = out.join('\n');
    return this.options.headless ? body : `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${body}`;
  }
}

export class Parser {
  parseString(_xml: string, callback: (err: Error | null, data?: unknown) => void): void {
    callback(new Error('XML parsing is not part of the virtual-media daemon bundle'));
  }
}

export default { Builder, Parser };
