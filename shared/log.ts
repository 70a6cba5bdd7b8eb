// Structured logging: one pino root per process, one child per component (stable `component` key).
//
// Logs go through process.stdout, not pino's default synchronous fd writer: that writer (sonic-boom) retries a
// failed write forever when it flushes at exit, so a process whose stdout reader had gone away (EPIPE) hung in
// process.exit() and was left running. A lost reader now just drops the log lines.
import { pino, type Logger } from 'pino';

export type { Logger };

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const root: Logger = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  process.stdout,
);

/** Logger for one component (`apiserver`, `kubelet`, `ztunnel.outbound`, ...). */
export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...bindings });
}

/** A logger that drops everything: for tests and library defaults. */
export const silent: Logger = pino({ level: 'silent' });
