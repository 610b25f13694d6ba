import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { milestone } from '../support/engine-fixture.js';
import { taskWorktree } from '../support/paths.js';
import { readState, setupE2E, turnsOf, unexpected, usage, type E2E } from './harness.js';

/**
 * Idle detection with the real claude CLI (tests/agents/idle.test.ts covers it with the fake agent): Claude Code
 * prints nothing while its Bash tool runs, in the default sandbox (bubblewrap) on Linux. The tool's processes must
 * still be found as the agent's descendants and their CPU counted. One claude process (plus `claude --version`).
 */

const IDLE_TIMEOUT_S = 3;
const BUILD_S = 10;

/** A silent "build": a shell loop that keeps the CPU busy (a `date` per round) for BUILD_S seconds, then writes 1A.txt. */
const BUILD = `start=$(date +%s); n=0; while [ $(( $(date +%s) - start )) -lt ${BUILD_S} ]; do n=$((n+1)); done; echo "built in $(( $(date +%s) - start ))s, $n rounds" > 1A.txt`;

describe('e2e: a silent Bash tool that computes for longer than agent.idle_timeout', () => {
  let e2e: E2E | undefined;
  afterAll(() => e2e?.cleanup());

  it('is not stopped: the task finishes in one agent run', async () => {
    e2e = await setupE2E({
      milestones: { '1A': milestone('1A') },
      config: { agent: { allowed_tools: ['Bash'], idle_timeout: IDLE_TIMEOUT_S } },
      scenario: {
        rules: [
          {
            name: '1A-build',
            match: { conversation: 'milestone 1A:', turn: 0 },
            reply: { tool_use: { name: 'Bash', input: { command: BUILD, description: 'Build (silent, CPU-bound)', timeout: 120_000 } }, usage: usage(1) },
          },
          { name: '1A-done', match: { conversation: 'milestone 1A:', turn: 1 }, reply: { text: '1A is built.', usage: usage(2) } },
        ],
      },
    });
    const result = await e2e.run();
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/idle_timeout|printed nothing/);
    expect(unexpected(e2e.server)).toEqual([]);

    const state = readState(e2e.repo.root);
    expect(state.tasks['1A']).toMatchObject({ status: 'done', attempts: 1 });
    // The tool ran silently for several idle timeouts and nothing was retried: two turns, one session.
    const built = readFileSync(path.join(taskWorktree(e2e.repo.root, '1A'), '1A.txt'), 'utf8');
    expect(Number(/built in (\d+)s/.exec(built)?.[1])).toBeGreaterThanOrEqual(BUILD_S);
    expect(turnsOf(e2e.server, '1A')).toHaveLength(2);
  }, 120_000);
});
