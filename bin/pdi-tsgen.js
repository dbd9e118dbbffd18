#!/usr/bin/env node
// Launcher for pdi-tsgen: the compiled CLI when the package is built
// (npm run build), otherwise the TypeScript source through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/codegen/src/cli.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../codegen/src/cli.ts', import.meta.url).href);
}
cli.runCommand(process.argv.slice(2));
