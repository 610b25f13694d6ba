import { createRedactor } from '../agents/redact.js';
import { runProcessGroup } from '../util/process.js';

export interface CommandResult {
  command: string;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** Combined stdout and stderr, the last part only: enough to report, never unbounded. */
  outputTail: string;
  durationMs: number;
}

const TAIL_CHARS = 4000;

/**
 * Runs one user-configured command (set-up, checks) through the shell, in its own process group, so a timeout or
 * a cancellation ends everything it started (SIGTERM to the group, then SIGKILL).
 */
export async function runCommand(command: string, opts: { cwd: string; timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv; graceMs?: number }): Promise<CommandResult> {
  const lines: string[] = [];
  let kept = 0;
  const result = await runProcessGroup({
    file: process.platform === 'win32' ? 'cmd.exe' : '/bin/sh',
    args: process.platform === 'win32' ? ['/d', '/s', '/c', command] : ['-c', command],
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    killGraceMs: opts.graceMs ?? 3000,
    maxStderrChars: TAIL_CHARS,
    onStdoutLine: (line) => {
      lines.push(line);
      kept += line.length + 1;
      while (kept > TAIL_CHARS && lines.length > 1) kept -= lines.shift()!.length + 1;
    },
  });
  const output = [lines.join('\n'), result.stderr].filter((s) => s.trim().length > 0).join('\n');
  const timedOut = result.killReason === 'timeout';
  return {
    command,
    ok: result.started && result.exitCode === 0 && result.killReason === undefined,
    exitCode: result.exitCode,
    timedOut,
    // Kept in the state file and sent to agents: never with a secret in it.
    outputTail: createRedactor({ ...process.env, ...opts.env })(result.spawnError ? result.spawnError.message : output),
    durationMs: result.durationMs,
  };
}
