// Command line: the config file, which bus, and root overrides for tests
// (the layer's unit runs `--config /etc/virtual-media/config.json` only).
export interface CliOptions {
  readonly configFile: string;
  readonly bus: 'system' | 'session';
  readonly address: string | undefined;
  readonly roots: { sys?: string; configfs?: string; dev?: string; run?: string; mountInfo?: string };
  readonly debug: boolean;
}

export const USAGE = `usage: virtual-mediad [--config FILE] [--bus system|session | --address ADDR]
                      [--sys-root DIR] [--configfs-root DIR] [--dev-root DIR] [--run-root DIR]
                      [--mountinfo FILE] [--debug]`;

export class UsageError extends Error {}

const ROOT_FLAGS: Record<string, keyof CliOptions['roots']> = {
  '--sys-root': 'sys',
  '--configfs-root': 'configfs',
  '--dev-root': 'dev',
  '--run-root': 'run',
  '--mountinfo': 'mountInfo',
};

export function parseCli(argv: readonly string[]): CliOptions {
  let configFile = '/etc/virtual-media/config.json';
  let bus: 'system' | 'session' = 'system';
  let address: string | undefined;
  let debug = false;
  const roots: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--config') configFile = value();
    else if (arg === '--bus') {
      const v = value();
      if (v !== 'system' && v !== 'session') throw new UsageError(`--bus must be system or session, got ${v}`);
      bus = v;
    } else if (arg === '--address') address = value();
    else if (arg === '--debug') debug = true;
    else if (arg in ROOT_FLAGS) {
      const v = value();
      if (!v.startsWith('/')) throw new UsageError(`${arg} needs an absolute path`);
      roots[ROOT_FLAGS[arg]!] = v;
    } else throw new UsageError(`unknown argument ${arg}`);
  }
  return { configFile, bus, address, roots, debug };
}
