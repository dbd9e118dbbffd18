#!/usr/bin/env node
// Launcher for pdi-tsgen. In a checkout of the repository (src/ next to
// this folder) it runs the TypeScript sources through tsx, a development
// dependency there, so a stale build never runs by mistake; the published
// package has no src/ and runs the compiled dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../dist/cli.js', import.meta.url).href);
}
cli.runCommand(process.argv.slice(2));
