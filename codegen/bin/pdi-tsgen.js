#!/usr/bin/env node
// Launcher for pdi-tsgen: the compiled CLI (dist/, what the published
// package ships), or in a checkout that was not built, the TypeScript
// sources through tsx (a development dependency of the repository).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli.ts', import.meta.url).href);
}
cli.runCommand(process.argv.slice(2));
