import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const workOn = (id: string) => `milestone ${id}:`;
const write = (file: string) => ({ steps: [{ write: file, content: `${file}\n` }] });

function starts(log: string, key: string) {
  return readAgentLog(log).filter((r) => r.event === 'start' && r.key === key) as unknown as Array<{ prompt: string }>;
}

function hook(repo: { root: string; write: (f: string, c: string) => void }, file: string, body: string): void {
  repo.write(file, `#!/bin/sh\n${body}\n`);
  chmodSync(path.join(repo.root, file), 0o755);
}

describe('commit hooks on commits made for the agent', () => {
  it('a pre-commit hook that rejects every commit: fed back to the agent each round, then needs_attention with its message', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: workOn('1A'), run: write('a.txt') }] }, { review: { enabled: false, max_rounds: 2 } });
    cleanup = repo.cleanup;
    hook(repo, '.git/hooks/pre-commit', 'echo "lint-staged not installed in this checkout" >&2\nexit 1');
    const mainBefore = repo.git('rev-parse', 'main');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const task = readState(repo.root).tasks['1A'];
    expect(task.status).toBe('needs_attention');
    expect(task.reason).toContain('pre-commit');
    expect(task.reason).toContain('lint-staged not installed in this checkout');
    expect(task.rounds).toHaveLength(3);
    expect(task.rounds[0].checks[0]).toMatchObject({ command: 'pre-commit hook', ok: false, exitCode: 1 });
    const work = starts(repo.log, workOn('1A'));
    expect(work).toHaveLength(3); // the worker, then max_rounds remediations
    expect(work[1]!.prompt).toContain('pre-commit hook refused the commit');
    expect(work[1]!.prompt).toContain('lint-staged not installed in this checkout');
    expect(repo.git('rev-parse', 'main')).toBe(mainBefore);
    expect(task.merged ?? false).toBe(false);
  });

  it('a pre-commit hook stopped at its time limit: says after how many seconds and what to do, never "exit ?"', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: workOn('1A'), run: write('a.txt') }] }, { review: { enabled: false, max_rounds: 1 }, checks: { timeout: 1 } });
    cleanup = repo.cleanup;
    hook(repo, '.git/hooks/pre-commit', 'echo linting; sleep 30 & wait');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).not.toContain('exit ?');
    expect(output).toContain('the pre-commit hook did not finish within 1 s and was stopped');
    expect(output).toContain('raise checks.timeout');
    const task = readState(repo.root).tasks['1A'];
    expect(task.status).toBe('needs_attention');
    expect(task.rounds[0].checks[0]).toMatchObject({ command: 'pre-commit hook', ok: false, exitCode: null, timedOut: true });
    const remediation = starts(repo.log, workOn('1A'))[1]!.prompt;
    expect(remediation).toContain("the repository's pre-commit hook did not finish within 1 s and was stopped");
    expect(remediation).not.toContain('checks.timeout'); // advice for the user, not the agent
    const status = await runCli(['status'], { cwd: repo.root });
    expect(status.stdout).toContain('check `pre-commit hook` timed out');
  });

  it('a pre-commit hook the agent satisfies after its feedback: committed and merged, the hook ran on the commit', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [{ match: workOn('1A'), runs: [write('a.txt'), write('CHANGELOG.txt')] }] },
      { review: { enabled: false, max_rounds: 2 } },
    );
    cleanup = repo.cleanup;
    hook(repo, '.git/hooks/pre-commit', 'git diff --cached --name-only | grep -q CHANGELOG.txt || { echo "every commit must touch CHANGELOG.txt" >&2; exit 1; }');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const task = readState(repo.root).tasks['1A'];
    expect(task.status).toBe('done');
    expect(task.rounds.map((r: any) => r.checks.map((c: any) => c.ok))).toEqual([[false], []]);
    expect(starts(repo.log, workOn('1A'))[1]!.prompt).toContain('every commit must touch CHANGELOG.txt');
    expect(existsSync(path.join(repo.root, 'a.txt'))).toBe(true);
    expect(existsSync(path.join(repo.root, 'CHANGELOG.txt'))).toBe(true);
    // Both files went in with one commit: the one the hook accepted.
    expect(repo.git('log', '--format=%s', '--name-only', '-1', 'milestone/1A')).toMatch(/1A: Task 1A\n+(a\.txt\nCHANGELOG\.txt|CHANGELOG\.txt\na\.txt)/);
  });

  it('runs a commit-msg hook found through core.hooksPath (husky style), and git.hooks: false skips it, saying so once', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: workOn('1A'), run: write('a.txt') }] }, { review: { enabled: false, max_rounds: 0 } });
    cleanup = repo.cleanup;
    hook(repo, '.husky/commit-msg', 'grep -q "^JIRA-[0-9]" "$1" || { echo "commit message must start with a JIRA key" >&2; exit 1; }');
    repo.commit('husky hooks');
    repo.git('config', 'core.hooksPath', '.husky');
    const refused = await runCli([], { cwd: repo.root, env: repo.env });
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(1);
    const task = readState(repo.root).tasks['1A'];
    expect(task.status).toBe('needs_attention');
    expect(task.reason).toContain('commit-msg hook says: commit message must start with a JIRA key');

    const again = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: workOn('1A'), run: write('a.txt') }] }, { review: { enabled: false, max_rounds: 0 }, git: { hooks: false } });
    const first = cleanup;
    cleanup = () => {
      first?.();
      again.cleanup();
    };
    hook(again, '.husky/commit-msg', 'echo "must not run" >&2\nexit 1');
    again.commit('husky hooks');
    again.git('config', 'core.hooksPath', '.husky');
    const skipped = await runCli([], { cwd: again.root, env: again.env });
    expect(skipped.exitCode, skipped.stdout + skipped.stderr).toBe(0);
    expect(readState(again.root).tasks['1A'].status).toBe('done');
    const output = skipped.stdout + skipped.stderr;
    expect(output.match(/git\.hooks is false/g)).toHaveLength(1);
  });
});
