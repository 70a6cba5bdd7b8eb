// Structured logging: one pino root per process, one child per component (stable `component` key).
import { pino, type Logger } from 'pino';

export type { Logger };

const root: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

/** Logger for one component (`apiserver`, `kubelet`, `ztunnel.outbound`, ...). */
export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...bindings });
}

/** A logger that drops everything: for tests and library defaults. */
export const silent: Logger = pino({ level: 'silent' });
