import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real CLI from the devDependency `@anthropic-ai/claude-code`. */
export const CLAUDE_BIN = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

export type Event = Record<string, unknown> & { type?: string; subtype?: string };

export interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Every stdout line parsed as JSON (stream-json output). */
  events: Event[];
  /** The `result` event (found by its type: its key order does not start with `type`). */
  result?: Event;
  stderr: string;
}

/**
 * Runs `claude -p PROMPT --output-format stream-json --verbose ...` and waits for it to exit. `timeoutMs` is only a
 * safety net so a broken test cannot hang the suite.
 */
export function runClaude(prompt: string, extraArgs: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ClaudeRun> {
  const args = ['-p', prompt, '--output-format', 'stream-json', '--verbose', ...extraArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE_BIN, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 45_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const events = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Event);
      const result = events.find((e) => e.type === 'result');
      resolve({ code, signal, events, stderr, ...(result && { result }) });
    });
  });
}

/** A fresh HOME and working directory under one temporary root; `cleanup` removes both. */
export function claudeSandbox(): { home: string; cwd: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'scripted-claude-'));
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  mkdirSync(home);
  mkdirSync(cwd);
  return { home, cwd, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
