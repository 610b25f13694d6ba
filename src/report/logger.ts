import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Environment variables whose values must never reach a log, a transcript or the terminal. */
const SECRET_VARS = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'GITHUB_TOKEN', 'GH_TOKEN', 'OPENAI_API_KEY'];

export function redactor(env: NodeJS.ProcessEnv): (text: string) => string {
  const secrets = SECRET_VARS.map((name) => env[name]).filter((v): v is string => typeof v === 'string' && v.length >= 8);
  return (text) => {
    let out = text;
    for (const s of secrets) out = out.split(s).join('[redacted]');
    return out.replace(/\bsk-ant-[A-Za-z0-9_-]{8,}/g, 'sk-ant-[redacted]');
  };
}

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
  const redact = redactor(opts.env ?? process.env);
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
