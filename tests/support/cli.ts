import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would: a separate process, its own cwd and environment. */
export async function runCli(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<CliResult> {
  const result = await execa(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { LOG_LEVEL: undefined, AUTO_RESUME: undefined, ORCHESTRATOR_CONFIG: undefined, CI: 'true', ...opts.env },
    reject: false,
    timeout: opts.timeoutMs ?? 120_000,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
