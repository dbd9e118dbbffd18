// Where the BMC password comes from: a file, an environment variable, or a
// prompt on the terminal with echo off. Never the command line, where `ps`
// and shell history would show it.
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

export const PASSWORD_ENV = 'BMC_PASSWORD';

export interface PasswordSources {
  file?: string;
  env: NodeJS.ProcessEnv;
  input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: Writable;
}

export async function obtainPassword(user: string, from: PasswordSources): Promise<string> {
  if (from.file !== undefined) {
    const text = await readFile(from.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new Error(`cannot read the password file ${from.file}: ${e.code ?? e.message}`);
    });
    // One line; the newline an editor adds is not part of the password.
    return text.replace(/\r?\n$/, '');
  }
  const fromEnv = from.env[PASSWORD_ENV];
  if (fromEnv !== undefined) return fromEnv;
  if (!from.input.isTTY) throw new Error(`no password: give --password-file, set ${PASSWORD_ENV}, or run on a terminal to be asked`);
  return prompt(`Password for ${user}: `, from);
}

/** Reads a line from the terminal in raw mode, echoing nothing. */
function prompt(question: string, io: PasswordSources): Promise<string> {
  return new Promise((resolve, reject) => {
    io.output.write(question);
    io.input.setRawMode?.(true);
    io.input.resume();
    let typed = '';
    const finish = (error?: Error) => {
      io.input.off('data', onData);
      io.input.setRawMode?.(false);
      io.input.pause();
      io.output.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new Error('interrupted at the password prompt'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    io.input.on('data', onData);
  });
}
