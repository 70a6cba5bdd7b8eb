// Base of every component's error catalogue: a stable machine-readable `code`, a lower-case
// actionable message, and an optional `cause`. Components subclass it in their own errors.ts.
export class MeshError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Narrow an unknown throwable to something with a message, for logging. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
