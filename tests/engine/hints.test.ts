import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/** Every hint the run prints works when followed, and the summary, `status` and TASKS.md say the same. */
let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const write = (file: string) => ({ steps: [{ write: file, content: `${file}\n` }] });

function statusOf(stdout: string, id: string): string {
  const doc = JSON.parse(stdout);
  return doc.tasks.find((t: any) => t.id === id).status;
}

describe('the summary, status and TASKS.md agree', () => {
  it('after a usage-limit stop, the task cut off is pending everywhere, not failed', async () => {
    const resetsAt = Math.ceil(Date.now() / 1000) + 3600;
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: 'milestone 1A:', runs: [{ result: 'usage_limit', resetsAt }, write('a.txt')] }] }, { auto_resume: false });
    cleanup = repo.cleanup;
    const run = await runCli([], { cwd: repo.root, env: repo.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(75);
    // The summary says interrupted, status and TASKS.md pending with the reason "interrupted (…)": never failed.
    expect(run.stdout).toMatch(/^ {2}1A {2}interrupted\b/m);
    expect(run.stdout).not.toMatch(/1A\s+failed/);
    expect(readState(repo.root).tasks['1A']).toMatchObject({ status: 'pending', reason: expect.stringMatching(/^interrupted \(usage_limit.*orchestrate --resume continues it/) });
    const status = await runCli(['status', '--json'], { cwd: repo.root, env: repo.env });
    expect(statusOf(status.stdout, '1A')).toBe('pending');
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toMatch(/1A.*pending/);
  });
});

describe('hints that work', () => {
  it('leftover branches without a run state: no --resume offered, and the command offered clears the way', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: write('a.txt') });
    cleanup = repo.cleanup;
    repo.git('branch', 'milestone/1A');
    const refused = await runCli([], { cwd: repo.root, env: repo.env });
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toMatch(/milestone\/1A/);
    expect(refused.stderr).not.toMatch(/--resume/);
    const command = /orchestrate (clean --all --force)/.exec(refused.stderr)?.[1];
    expect(command, refused.stderr).toBeDefined();
    const cleaned = await runCli(command!.split(' '), { cwd: repo.root, env: repo.env });
    expect(cleaned.exitCode, cleaned.stdout + cleaned.stderr).toBe(0);
    const run = await runCli([], { cwd: repo.root, env: repo.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
  });

  it("a task branch checked out in the user's checkout: says to switch it away, and --resume then works", async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: 'milestone 1A:', runs: [{ result: 'error', resultText: 'boom' }, write('a.txt')] }] }, { retry_attempts: 0 });
    cleanup = repo.cleanup;
    const first = await runCli([], { cwd: repo.root, env: repo.env });
    expect(first.exitCode).toBe(1);
    // The user removes the task's worktree and looks at its branch in their own checkout.
    const rec = readState(repo.root).tasks['1A'];
    repo.git('worktree', 'remove', '--force', '--force', path.resolve(repo.root, rec.worktree));
    repo.git('checkout', '-q', rec.branch);
    const blocked = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(blocked.exitCode).toBe(1);
    const hint = /\(git -C (\S+) switch (\S+)\)/.exec(blocked.stdout + blocked.stderr);
    expect(hint, blocked.stdout + blocked.stderr).not.toBeNull();
    expect(blocked.stdout + blocked.stderr).toContain(`branch ${rec.branch} is checked out at`);
    repo.git('-C', hint![1]!, 'switch', hint![2]!);
    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(readState(repo.root).tasks['1A']).toMatchObject({ status: 'done', merged: true });
  });
});
