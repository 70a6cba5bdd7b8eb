// Command-line parsing for meshctl: splits `meshctl <command> [flags] [positionals] [-- rest]`.
// Pure; each command declares its flags, so unknown flags are errors with a hint.
import { parseArgs } from 'node:util';
import { MeshError } from '../shared/errors.ts';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }>;

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Everything after a literal `--` (the command of `meshctl exec`). */
  rest: string[];
}

export class UsageError extends MeshError {
  constructor(message: string) {
    super('MESHCTL_USAGE', message);
  }
}

export function parseCommandArgs(argv: string[], spec: FlagSpec): Parsed {
  const dash = argv.indexOf('--');
  const head = dash >= 0 ? argv.slice(0, dash) : argv;
  const rest = dash >= 0 ? argv.slice(dash + 1) : [];
  try {
    const { values, positionals } = parseArgs({ args: head, options: spec, allowPositionals: true, strict: true });
    return { flags: values as Parsed['flags'], positionals, rest };
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/^Unknown option/, 'unknown flag')}; see meshctl --help`);
  }
}

/** Common `-n NS` / `-A` / `--kubeconfig` flags. */
export const kubeFlags: FlagSpec = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
};

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

export function strs(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
