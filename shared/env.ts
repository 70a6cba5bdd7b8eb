// Reading a binary's settings from its environment (as a pod receives them): required values and bounded numbers,
// with one error per bad variable that names it. Each binary passes its own error class and a hint saying where
// the value should come from.
export type Env = Record<string, string | undefined>;

export interface EnvReader {
  required(name: string): string;
  /** A number in 0..max (default: a port, 65535); `dflt` when unset or empty. */
  number(name: string, dflt: number, max?: number): number;
}

export function envReader(env: Env, fail: (message: string) => Error, hint: string): EnvReader {
  return {
    required(name) {
      const v = env[name];
      if (!v) throw fail(`environment variable ${name} is required (${hint})`);
      return v;
    },
    number(name, dflt, max = 65535) {
      const raw = env[name];
      if (raw === undefined || raw === '') return dflt;
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0 || n > max) throw fail(`${name}=${raw} is not a number in 0..${max}`);
      return n;
    },
  };
}
