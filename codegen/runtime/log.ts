// A minimal logger: journald reads the `<N>` priority prefix on stderr lines
// (sd-daemon(3)), so a systemd unit needs no logging library.
export interface Logger {
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

const PRIORITY = { error: 3, warning: 4, info: 6, debug: 7 } as const;

export function journalLogger(write: (line: string) => void = (l) => process.stderr.write(l), debug = false): Logger {
  const emit = (level: keyof typeof PRIORITY) => (message: string) => {
    if (level === 'debug' && !debug) return;
    for (const line of message.split('\n')) write(`<${PRIORITY[level]}>${line}\n`);
  };
  return { error: emit('error'), warning: emit('warning'), info: emit('info'), debug: emit('debug') };
}

export const silentLogger: Logger = { error() {}, warning() {}, info() {}, debug() {} };
