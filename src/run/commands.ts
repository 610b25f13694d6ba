import { execa } from 'execa';

export interface CommandResult {
  command: string;
  ok: boolean;
  exitCode: number | undefined;
  timedOut: boolean;
  /** Combined stdout and stderr, the last part only: enough to report, never unbounded. */
  outputTail: string;
  durationMs: number;
}

const TAIL_CHARS = 4000;

/**
 * Runs one user-configured command (set-up, checks) through the shell, in its own process group so that a
 * timeout or a cancellation ends everything it started: SIGTERM to the group, then SIGKILL after a grace period.
 */
export async function runCommand(command: string, opts: { cwd: string; timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv; graceMs?: number }): Promise<CommandResult> {
  const started = Date.now();
  const child = execa(command, {
    cwd: opts.cwd,
    shell: true,
    detached: true,
    all: true,
    reject: false,
    stdin: 'ignore',
    env: opts.env,
    extendEnv: true,
  });
  let timedOut = false;
  const killGroup = (why: 'timeout' | 'abort') => {
    if (why === 'timeout') timedOut = true;
    signalGroup(child.pid, 'SIGTERM');
    const hard = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), opts.graceMs ?? 3000);
    hard.unref();
  };
  const timer = setTimeout(() => killGroup('timeout'), opts.timeoutMs);
  const onAbort = () => killGroup('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await child;
    const output = typeof result.all === 'string' ? result.all : '';
    return {
      command,
      ok: result.exitCode === 0 && !timedOut,
      exitCode: result.exitCode,
      timedOut,
      outputTail: output.length > TAIL_CHARS ? `…${output.slice(-TAIL_CHARS)}` : output,
      durationMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // Whatever the command left running in its group goes with it.
    signalGroup(child.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}
