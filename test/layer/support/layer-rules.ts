// The structural rules of yocto-check-layer (and this project's opt-in rule),
// as functions that return the problems they find, so that tests can show
// both that the layer passes and that each rule catches a broken input.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { logicalLines } from './bitbake-vars.js';

/** README rules of yocto-check-layer: the words "maintainer" and "patch" and an e-mail address. */
export function readmeProblems(text: string): string[] {
  const problems: string[] = [];
  if (!/maintainer/i.test(text)) problems.push('README does not name a maintainer (word "maintainer")');
  if (!/patch/i.test(text)) problems.push('README does not say where patches go (word "patch")');
  if (!/[\w.+-]+@[\w-]+(\.[\w-]+)+/.test(text)) problems.push('README has no e-mail address');
  return problems;
}

/**
 * A made-up address must not pass for a real one: an address in a reserved
 * domain (RFC 2606/6761: .invalid, .example, .test, .localhost, example.com)
 * is only acceptable next to the plain statement that no maintainer is
 * assigned.
 */
export function placeholderAddressProblems(name: string, text: string): string[] {
  const reserved = [...text.matchAll(/[\w.+-]+@([\w-]+(?:\.[\w-]+)+)/g)].map((m) => m[0]).filter((a) => /(\.(invalid|example|test|localhost)|(^|[@.])example\.(com|net|org))$/i.test(a));
  if (reserved.length === 0 || /not\s+assigned|no\s+maintainer\s+is\s+assigned/i.test(text)) return [];
  return [`${name}: ${reserved.join(', ')} is a placeholder address, but the text does not say that no maintainer is assigned`];
}

const upstreamStatuses = ['Pending', 'Submitted', 'Accepted', 'Backport', 'Denied', 'Inappropriate', 'Inactive-Upstream'];

/** OE patch rule: an Upstream-Status: line with a known value, in the patch header. */
export function patchProblems(name: string, text: string): string[] {
  const header = text.split(/^---$/m)[0] ?? text;
  const m = /^Upstream-Status:\s*([\w-]+)/m.exec(header);
  if (!m) return [`${name}: no Upstream-Status: line in the patch header`];
  if (!upstreamStatuses.includes(m[1]!)) return [`${name}: unknown Upstream-Status "${m[1]}"`];
  return [];
}

/** Kconfig fragment syntax: CONFIG_X=value or "# CONFIG_X is not set", each symbol once. */
export function kernelConfigProblems(name: string, text: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    const where = `${name}:${i + 1}`;
    if (line.trim() === '') return;
    let symbol: string | undefined;
    const set = /^(CONFIG_[A-Z0-9_]+)=(y|m|n|"[^"]*"|-?\d+|0x[0-9a-fA-F]+)$/.exec(line);
    const unset = /^# (CONFIG_[A-Z0-9_]+) is not set$/.exec(line);
    if (set) symbol = set[1];
    else if (unset) symbol = unset[1];
    else if (/^#/.test(line) && !/CONFIG_[A-Z0-9_]+\s*=/.test(line) && !/^#\s*CONFIG_\w+\s+is not set/.test(line)) return;
    else {
      problems.push(`${where}: not a Kconfig line: ${line}`);
      return;
    }
    if (seen.has(symbol!)) problems.push(`${where}: ${symbol} set twice`);
    seen.add(symbol!);
  });
  if (seen.size === 0) problems.push(`${name}: sets no CONFIG_ option`);
  return problems;
}

/** No network fetchers of the npm kind and no task with network access. */
export function networkProblems(name: string, text: string): string[] {
  const problems: string[] = [];
  if (/\bnpm:\/\//.test(text)) problems.push(`${name}: uses the npm:// fetcher`);
  if (/\bnpmsw:\/\//.test(text)) problems.push(`${name}: uses the npmsw:// fetcher`);
  if (/\[network\]/.test(text)) problems.push(`${name}: gives a task network access ([network])`);
  return problems;
}

export const optInRequire = /^require \$\{@bb\.utils\.contains\('DISTRO_FEATURES', 'virtual-media', '([\w.-]+\.inc)', '', d\)\}$/;

/** A bbappend may only hold comments and one opt-in require of an existing sibling .inc. */
export function appendProblems(path: string, text: string): string[] {
  const statements = text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (statements.length !== 1) return [`${basename(path)}: must contain only the opt-in require (found ${statements.length} statements)`];
  const m = optInRequire.exec(statements[0]!.trim());
  if (!m) return [`${basename(path)}: not an opt-in require: ${statements[0]}`];
  if (!existsSync(join(dirname(path), m[1]!))) return [`${basename(path)}: requires ${m[1]} which does not exist`];
  return [];
}

/** file:// entries of SRC_URI (and +=/append forms) in a metadata file. */
export function fileUris(text: string): string[] {
  const uris: string[] = [];
  for (const line of logicalLines(text)) {
    if (!/^\s*SRC_URI(:[\w-]+)*\s*(\+=|=|\?=|\.=|=\.)/.test(line)) continue;
    for (const m of line.matchAll(/file:\/\/([^\s;"]+)/g)) uris.push(m[1]!);
  }
  return uris;
}

/**
 * The directories bitbake's FILESPATH gives a recipe or an append in `dir`
 * for package `bpn`, plus FILESEXTRAPATHS entries written as ${THISDIR}/x.
 */
export function searchDirs(dir: string, bpn: string, pv: string | undefined, text: string): string[] {
  const dirs = [join(dir, bpn), join(dir, 'files')];
  if (pv) dirs.unshift(join(dir, `${bpn}-${pv}`));
  for (const m of text.matchAll(/FILESEXTRAPATHS:prepend\s*:=\s*"\$\{THISDIR\}\/([^:"]+):"/g)) dirs.unshift(join(dir, m[1]!));
  return dirs;
}

export function missingFileUris(path: string, text: string, bpn: string, pv?: string): string[] {
  const dirs = searchDirs(dirname(path), bpn, pv, text);
  return fileUris(text)
    .filter((uri) => !uri.includes('${'))
    .filter((uri) => !dirs.some((d) => existsSync(join(d, uri))))
    .map((uri) => `${basename(path)}: file://${uri} found in none of ${dirs.map((d) => basename(d)).join(', ')}`);
}
