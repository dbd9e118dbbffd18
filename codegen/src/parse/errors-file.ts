// *.errors.yaml (a list of errors, D-Bus names <namespace>.Error.<Name>) and
// the `errors:` list of *.events.yaml (D-Bus names <namespace>.<Name>). Only
// what error references need is read from events files; their messages,
// metadata and severities are someone else's business.

import type { ErrorDef, ErrorsFileDef } from '../model.js';
import { show } from './diagnostics.js';
import { describeNode, type FileReader } from './reader.js';
import type { YNode } from './yaml-source.js';

const ERROR_KEYS = ['name', 'description', 'errno'] as const;

export function readErrorsFile(root: YNode, namespace: string, file: string, reader: FileReader): ErrorsFileDef {
  const errors: ErrorDef[] = [];
  const seen = new Map<string, number>();
  if (root.kind !== 'seq') {
    reader.error(root, `expected an errors file to be a list of errors (- name: ..., description: ...), found ${describeNode(root)}`);
    return { namespace, file, errors };
  }
  for (const item of root.items) {
    const map = reader.map(item, 'an error', ERROR_KEYS, ['name']);
    if (!map) continue;
    const name = reader.name(map, 'name', 'error name');
    const description = reader.optionalString(map, 'description', 'the error description');
    const errnoNode = map.get('errno');
    const errno = errnoNode === undefined ? undefined : checkErrno(reader, errnoNode);
    if (!name) continue;
    const firstLine = seen.get(name.name);
    if (firstLine !== undefined) {
      reader.error(name.node, `duplicate error name ${show(name.name)}: already defined at line ${firstLine}`);
      continue;
    }
    seen.set(name.name, name.node.line);
    errors.push({ name: name.name, fullName: `${namespace}.Error.${name.name}`, description, ...(errno ? { errno } : {}), pos: reader.pos(item) });
  }
  return { namespace, file, errors };
}

function checkErrno(reader: FileReader, node: YNode): string | undefined {
  const errno = reader.string(node, 'the errno');
  if (errno !== undefined && !/^E[A-Z0-9]+$/.test(errno)) {
    reader.error(node, `errno ${show(errno)} is not an errno symbol such as EIO or EEXIST`);
    return undefined;
  }
  return errno;
}

export function readEventErrors(root: YNode, namespace: string, file: string, reader: FileReader): ErrorsFileDef {
  const errors: ErrorDef[] = [];
  if (root.kind !== 'map') {
    reader.error(root, `expected an events file to be a mapping (version, errors, events), found ${describeNode(root)}`);
    return { namespace, file, errors };
  }
  const list = root.entries.find((e) => e.key === 'errors')?.value;
  for (const item of reader.list(list, 'the errors of an events file')) {
    if (item.kind !== 'map') {
      reader.error(item, 'expected an event error as a mapping with a name');
      continue;
    }
    const nameNode = item.entries.find((e) => e.key === 'name')?.value;
    if (nameNode === undefined) {
      reader.error(item, 'an event error is missing the required key "name"');
      continue;
    }
    const name = reader.string(nameNode, 'the event error name');
    if (name === undefined) continue;
    const en = item.entries.find((e) => e.key === 'en')?.value;
    const description = en?.kind === 'map' ? textOf(en.entries.find((e) => e.key === 'description')?.value ?? en.entries.find((e) => e.key === 'message')?.value) : '';
    const errnoNode = item.entries.find((e) => e.key === 'errno')?.value;
    const errno = errnoNode === undefined ? 'EIO' : checkErrno(reader, errnoNode);
    errors.push({ name, fullName: `${namespace}.${name}`, description, ...(errno ? { errno } : {}), pos: reader.pos(item) });
  }
  return { namespace, file, errors };
}

function textOf(node: YNode | undefined): string {
  return node?.kind === 'scalar' && node.value.kind === 'string' ? node.value.value : '';
}
