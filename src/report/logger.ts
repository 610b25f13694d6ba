import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createRedactor } from '../agents/redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function timestampForFile(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}_${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  readonly file: string | undefined;
  close(): Promise<void>;
}

/**
 * Writes `logs/orchestrator_YYYYMMDD_HHMMSS.log` at the configured level, and hands each line to `echo` (the
 * terminal view decides what to show). Secrets are redacted before anything is written.
 */
export function createLogger(opts: { level: LogLevel; dir?: string; echo?: (level: LogLevel, line: string) => void; env?: NodeJS.ProcessEnv; now?: Date }): Logger {
  // The same rules as transcripts: every secret-looking variable's value, and anything shaped like a key.
  const redact = createRedactor(opts.env ?? process.env);
  let stream: WriteStream | undefined;
  let file: string | undefined;
  if (opts.dir) {
    mkdirSync(opts.dir, { recursive: true });
    file = path.join(opts.dir, `orchestrator_${timestampForFile(opts.now ?? new Date())}.log`);
    stream = createWriteStream(file, { flags: 'a' });
  }
  const write = (level: LogLevel, msg: string) => {
    const line = redact(msg);
    if (ORDER[level] >= ORDER[opts.level]) stream?.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${line}\n`);
    opts.echo?.(level, line);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    file,
    close: () => new Promise<void>((resolve) => (stream ? stream.end(resolve) : resolve())),
  };
}
