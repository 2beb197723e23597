import type { Logger as LoggerShape } from './driver.js';

/** The daemon's logger, injectable by plugins: `@inject(Logger) logger: Logger`. */
export const Logger = Symbol.for('tiny-docker.core.Logger');
export type Logger = LoggerShape;

/** Writes `time level [scope] message` lines to stderr (the daemon's log). */
export function consoleLogger(scope = 'mini-dockerd'): LoggerShape {
  const line = (level: string, message: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} [${scope}] ${message}\n`);
  };
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  };
}
