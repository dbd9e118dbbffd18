// sdbus++ pastes a container default into C++ as written, so the YAML holds a
// C++ brace initialiser such as '{"ALL"}'. We read the small part of that
// language such defaults use: nested braces, string literals, numbers,
// true and false.

export type BraceItem =
  | { kind: 'list'; items: BraceItem[]; offset: number }
  | { kind: 'string'; value: string; offset: number }
  | { kind: 'number'; text: string; offset: number }
  | { kind: 'bool'; value: boolean; offset: number };

export class BraceSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\', '0': '\0' };

export function parseBraceList(text: string): BraceItem {
  let i = 0;
  const skip = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const item = (): BraceItem => {
    skip();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const items: BraceItem[] = [];
      skip();
      if (text[i] === '}') {
        i++;
        return { kind: 'list', items, offset: start };
      }
      for (;;) {
        items.push(item());
        skip();
        if (text[i] === ',') {
          i++;
          skip();
          if (text[i] === '}') {
            i++;
            return { kind: 'list', items, offset: start };
          }
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'list', items, offset: start };
        }
        throw new BraceSyntaxError(`expected ',' or '}'`, i);
      }
    }
    if (c === '"') {
      i++;
      let value = '';
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') {
          const e = ESCAPES[text[i + 1] ?? ''];
          if (e === undefined) throw new BraceSyntaxError('unsupported escape in a string literal', i);
          value += e;
          i += 2;
        } else {
          value += text[i++];
        }
      }
      if (i >= text.length) throw new BraceSyntaxError('unterminated string literal', start);
      i++;
      return { kind: 'string', value, offset: start };
    }
    const word = /^[-+]?[A-Za-z0-9_.]+(?:[eE][-+]?[0-9]+)?/.exec(text.slice(i));
    if (word) {
      i += word[0].length;
      if (word[0] === 'true' || word[0] === 'false') return { kind: 'bool', value: word[0] === 'true', offset: start };
      if (/^[-+]?[0-9.]/.test(word[0])) return { kind: 'number', text: word[0], offset: start };
      throw new BraceSyntaxError(`unsupported word ${JSON.stringify(word[0])}: only string literals, numbers, true and false`, start);
    }
    throw new BraceSyntaxError(i >= text.length ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`, i);
  };
  const result = item();
  skip();
  if (i < text.length) throw new BraceSyntaxError('unexpected text after the closing }', i);
  if (result.kind !== 'list') throw new BraceSyntaxError('expected a brace list such as {"a", "b"}', 0);
  return result;
}
