import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/settings.ts';

export type { Logger };

/**
 * Structured JSON lines on stdout, one object per event with stable field names.
 * Anything that may carry a secret is redacted by path, wherever it is logged.
 */
export function createLogger(options: { level: LogLevel; pretty?: boolean; name?: string }): Logger {
  return pino({
    level: options.level,
    base: { name: options.name ?? 'mxpost' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['secret', 'secrets', '*.secret', '*.secrets', 'headers["webhook-signature"]', '*.headers["webhook-signature"]'],
      censor: '[redacted]',
    },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' } } }
      : {}),
  });
}
