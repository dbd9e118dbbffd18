// `paths:`, `service_names:` and `associations:` of an interface, validated
// with sdbus++'s rules (path elements [A-Za-z0-9_], no empty elements;
// service-name elements [A-Za-z0-9_], not starting with a digit).

import type { PathDef, ServiceNameDef } from '../model.js';
import { listWords, show } from './diagnostics.js';
import { snakeCase } from './names.js';
import type { FileReader } from './reader.js';
import type { YNode } from './yaml-source.js';

type Segment = { name: string; value: string; description: string };

function pathProblem(value: string, isSegment: boolean): string | undefined {
  if (value.length === 0) return 'it is empty';
  if (!isSegment && !value.startsWith('/')) return 'a path must start with /';
  if (isSegment && value.startsWith('/')) return 'a segment must not start with /';
  const elements = value.split('/');
  for (const element of isSegment ? elements : elements.slice(1)) {
    if (element.length === 0) return 'it has an empty element (// or a trailing /)';
    const bad = [...element].find((c) => !/[A-Za-z0-9_]/.test(c));
    if (bad !== undefined) return `it contains ${show(bad)}; path elements may hold only letters, digits and _`;
  }
  return undefined;
}

function readSegments(reader: FileReader, node: YNode | undefined): Segment[] {
  const segments: Segment[] = [];
  for (const item of reader.list(node, 'the segments of a path')) {
    const map = reader.map(item, 'a path segment', ['name', 'value', 'description'], ['name']);
    if (!map) continue;
    const name = reader.name(map, 'name', 'segment name');
    const valueNode = map.get('value');
    // sdbus++ names a value-less segment after its name in snake_case.
    let value = name ? snakeCase(name.name) : '';
    if (valueNode !== undefined) value = reader.string(valueNode, 'the segment value') ?? value;
    const problem = pathProblem(value, true);
    if (problem && name) reader.error(valueNode ?? item, `invalid path segment ${show(value)}: ${problem}`);
    if (name) segments.push({ name: name.name, value, description: reader.optionalString(map, 'description', 'the segment description') });
  }
  return segments;
}

export function readPaths(reader: FileReader, node: YNode | undefined): PathDef[] {
  const paths: PathDef[] = [];
  for (const item of reader.list(node, 'paths')) {
    const map = reader.map(item, 'a path', ['namespace', 'instance', 'name', 'value', 'description', 'segments']);
    if (!map) continue;
    const kinds = (['namespace', 'instance', 'value'] as const).filter((k) => map.has(k));
    if (kinds.length !== 1) {
      reader.error(item, kinds.length === 0
        ? 'a path needs exactly one of namespace, instance, or name with value'
        : `a path takes only one of ${listWords(kinds)}`);
      continue;
    }
    const kind = kinds[0]!;
    const valueNode = map.get(kind)!;
    const value = reader.string(valueNode, `the ${kind} path`);
    if (value === undefined) continue;
    const problem = pathProblem(value, false);
    if (problem) reader.error(valueNode, `invalid ${kind} path ${show(value)}: ${problem}`);
    const description = reader.optionalString(map, 'description', 'the path description');
    if (kind === 'instance') {
      for (const extra of ['segments', 'name'] as const) {
        if (map.has(extra)) reader.error(map.keyNode(extra)!, `an instance path is a single fixed path and takes no ${extra}`);
      }
      paths.push({ kind: 'instance', value, description });
    } else if (kind === 'namespace') {
      if (map.has('name')) reader.error(map.keyNode('name')!, 'sdbus++ names a namespace path NamespacePath itself; remove name');
      paths.push({ kind: 'namespace', value, description, segments: readSegments(reader, map.get('segments')) });
    } else {
      if (!map.has('name')) {
        reader.error(item, 'a path given by value needs a name');
        continue;
      }
      const name = reader.name(map, 'name', 'path name');
      if (name) paths.push({ kind: 'named', name: name.name, value, description, segments: readSegments(reader, map.get('segments')) });
    }
  }
  return paths;
}

function serviceNameProblem(value: string): string | undefined {
  if (value.length === 0) return 'it is empty';
  for (const element of value.split('.')) {
    if (element.length === 0) return 'it has an empty element (..)';
    const bad = [...element].find((c) => !/[A-Za-z0-9_]/.test(c));
    if (bad !== undefined) return `it contains ${show(bad)}; only letters, digits and _ are allowed`;
    if (/^[0-9]/.test(element)) return `the element ${show(element)} starts with a digit`;
  }
  return undefined;
}

export function readServiceNames(reader: FileReader, node: YNode | undefined): ServiceNameDef[] {
  const names: ServiceNameDef[] = [];
  for (const item of reader.list(node, 'service_names')) {
    const map = reader.map(item, 'a service name', ['default', 'name', 'value', 'description']);
    if (!map) continue;
    let kind: string;
    let valueNode: YNode | undefined;
    if (map.has('default')) {
      kind = 'default';
      valueNode = map.get('default');
      if (map.has('value')) reader.error(map.keyNode('value')!, 'a service name takes default or value, not both');
    } else {
      const name = reader.name(map, 'name', 'service name entry name');
      valueNode = map.get('value');
      if (!map.has('name') || valueNode === undefined) {
        reader.error(item, 'a service name needs either default: <name>, or name and value');
        continue;
      }
      if (!name) continue;
      kind = name.name;
    }
    const value = reader.string(valueNode!, 'the service name');
    if (value === undefined) continue;
    const problem = serviceNameProblem(value);
    if (problem) reader.error(valueNode!, `invalid service name ${show(value)}: ${problem}`);
    names.push({ kind, value, description: reader.optionalString(map, 'description', 'the service name description') });
  }
  return names;
}

/** Associations are documentation only; check their shape and drop them. */
export function checkAssociations(reader: FileReader, node: YNode | undefined): void {
  for (const item of reader.list(node, 'associations')) {
    const map = reader.map(item, 'an association', ['name', 'description', 'reverse_name', 'required_endpoint_interfaces'], ['name']);
    if (!map) continue;
    reader.name(map, 'name', 'association name');
    reader.optionalString(map, 'description', 'the association description');
    if (map.has('reverse_name')) reader.name(map, 'reverse_name', 'association reverse name');
    // Upstream writes either one interface name or a list of them.
    const required = map.get('required_endpoint_interfaces');
    const items = required?.kind === 'scalar' ? [required] : reader.list(required, 'required_endpoint_interfaces');
    for (const iface of items) reader.string(iface, 'a required endpoint interface');
  }
}
