import { createRedactor } from '../agents/redact.js';
import type { CommandSandbox } from '../sandbox/plan.js';
import { sandboxedSpawn } from '../sandbox/command.js';
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
 * a cancellation ends everything it started (SIGTERM to the group, then SIGKILL). With `sandbox` (checks, when the
 * agents' sandbox is on) it runs inside bubblewrap, confined to `cwd` (src/sandbox/plan.ts).
 */
export async function runCommand(command: string, opts: { cwd: string; timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv; graceMs?: number; sandbox?: CommandSandbox }): Promise<CommandResult> {
  const lines: string[] = [];
  let kept = 0;
  const env = { ...process.env, ...opts.env };
  const shell = process.platform === 'win32' ? ['cmd.exe', '/d', '/s', '/c', command] : ['/bin/sh', '-c', command];
  const spawn = opts.sandbox ? sandboxedSpawn(opts.sandbox, { cwd: opts.cwd, argv: shell, env }) : { file: shell[0]!, args: shell.slice(1), cleanup: () => {} };
  const result = await runProcessGroup({
    file: spawn.file,
    args: spawn.args,
    cwd: opts.cwd,
    env,
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    killGraceMs: opts.graceMs ?? 3000,
    maxStderrChars: TAIL_CHARS,
    onStdoutLine: (line) => {
      lines.push(line);
      kept += line.length + 1;
      while (kept > TAIL_CHARS && lines.length > 1) kept -= lines.shift()!.length + 1;
    },
  }).finally(spawn.cleanup);
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
