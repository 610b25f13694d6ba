import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClaudeAdapter, type ClaudeAdapterOptions } from '../../src/agents/claude/adapter.js';
import type { AgentRunRequest } from '../../src/agents/types.js';
import { isPidAlive } from '../../src/util/process.js';
import { FAKE_AGENT } from './helpers.js';

export interface LogRecord {
  event: 'start' | 'end' | 'child' | 'sigterm';
  pid: number;
  time: number;
  key?: string | null;
  cwd?: string;
  invocation?: number;
  sessionId?: string;
  resumed?: boolean;
  prompt?: string;
  options?: Record<string, unknown>;
  childPid?: number;
  ownGroup?: boolean;
  ignored?: boolean;
  exitCode?: number;
  signal?: string;
  error?: string;
}

/** A scratch directory with a worktree-like cwd, a fake-agent log and a nested transcript path. */
export class Sandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'agents-test-'));
  readonly cwd = join(this.root, 'work');
  readonly logPath = join(this.root, 'fake-agent.ndjson');
  private runs = 0;

  constructor() {
    mkdirSync(this.cwd);
  }

  adapter(opts: ClaudeAdapterOptions = {}) {
    return createClaudeAdapter({ command: [process.execPath, FAKE_AGENT], killGraceMs: 300, ...opts });
  }

  /** A request running the given fake-agent script. */
  request(script: object, extra: Partial<AgentRunRequest> = {}): AgentRunRequest {
    this.runs++;
    return {
      cwd: this.cwd,
      prompt: 'Implement milestone 1A',
      transcriptPath: join(this.root, 'runs', `run-${this.runs}`, 'transcript.jsonl'),
      ...extra,
      env: { FAKE_AGENT_SCRIPT_JSON: JSON.stringify(script), FAKE_AGENT_LOG: this.logPath, ...extra.env },
    };
  }

  log(): LogRecord[] {
    try {
      return readFileSync(this.logPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogRecord);
    } catch {
      return [];
    }
  }

  childPids(): number[] {
    return this.log()
      .filter((r) => r.event === 'child')
      .map((r) => r.childPid!);
  }

  agentPids(): number[] {
    return this.log()
      .filter((r) => r.event === 'start')
      .map((r) => r.pid);
  }

  dispose(): void {
    for (const pid of [...this.childPids(), ...this.agentPids()]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Polls until `check` holds. For state that settles asynchronously in the kernel (a killed process leaving /proc),
 * not for guessing at timing: it returns as soon as the condition is true, and fails loudly otherwise.
 */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function expectGone(pids: number[]): Promise<void> {
  await eventually(() => pids.every((p) => !isPidAlive(p)), `pids ${pids.join(', ')} are gone`);
}

export function transcriptLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}
