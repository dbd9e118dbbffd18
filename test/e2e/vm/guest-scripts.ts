// Guest scripts: the guest finds them under $E2E_GUEST_DIR (the repository's
// own share, see run-in-vm.ts), never by their host path.

/** A guest script running the named scenarios (guest/scenario-<name>.sh) in one boot. */
export function scenariosScript(names: string[]): string {
  for (const n of names) if (!/^[a-z0-9-]+$/.test(n)) throw new Error(`bad scenario name: ${n}`);
  return `E2E_SCENARIOS='${names.join(' ')}' exec bash "$E2E_GUEST_DIR/run-all.sh"\n`;
}

/** Streams guest console lines to stdout when E2E_VERBOSE=1 (progress while debugging). */
export function verboseConsole(prefix = 'vm'): ((line: string) => void) | undefined {
  if (process.env.E2E_VERBOSE !== '1') return undefined;
  const started = Date.now();
  return (line) => process.stdout.write(`      [${prefix} ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
}
