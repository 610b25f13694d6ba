import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const workOn = (id: string) => `milestone ${id}:`;
const nestRepository = { bash: 'git init -q sub && cd sub && echo inner > f.txt && git add f.txt && git -c user.name=a -c user.email=a@example.com commit -qm inner' };

function prompts(log: string, key: string): string[] {
  return (readAgentLog(log).filter((r) => r.event === 'start' && r.key === key) as unknown as Array<{ prompt: string }>).map((r) => r.prompt);
}

describe('a git repository the agent creates inside its worktree', () => {
  it('is never committed: fed back like a failed check with the path and how to remove it, then needs_attention', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: workOn('1A'), run: { steps: [nestRepository, { write: 'a.txt', content: 'a\n' }] } }] }, { review: { enabled: false, max_rounds: 1 } });
    cleanup = repo.cleanup;
    const mainBefore = repo.git('rev-parse', 'main');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const task = readState(repo.root).tasks['1A'];
    expect(task.status).toBe('needs_attention');
    expect(task.reason).toContain('nested git repository not committed: sub');
    expect(task.rounds[0].checks[0]).toMatchObject({ command: 'no nested git repository', ok: false });
    const remediation = prompts(repo.log, workOn('1A'))[1]!;
    expect(remediation).toContain('rm -rf sub/.git');
    expect(repo.git('ls-tree', '-r', '--name-only', 'milestone/1A')).not.toContain('sub');
    expect(repo.git('rev-parse', 'main')).toBe(mainBefore);
  });

  it('removed by the agent after the feedback: its files are committed as ordinary files and merged', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [{ match: workOn('1A'), runs: [{ steps: [nestRepository] }, { steps: [{ bash: 'rm -rf sub/.git' }] }] }] },
      { review: { enabled: false, max_rounds: 1 } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(readState(repo.root).tasks['1A'].status).toBe('done');
    expect(repo.git('ls-files', '-s', 'sub')).toMatch(/^100644 \S+ 0\tsub\/f\.txt$/);
  });

  it('made by the conflict-resolution agent in the merge worktree: the resolution is rejected, nothing of it merged', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          { match: 'resolving a git merge conflict', run: { steps: [{ write: 'same.txt', content: 'from A\nfrom B\n' }, nestRepository] } },
          { match: workOn('1A'), run: { steps: [{ write: 'same.txt', content: 'from A\n' }] } },
          { match: workOn('1B'), run: { steps: [{ write: 'same.txt', content: 'from B\n' }] } },
        ],
      },
      { review: { enabled: false } },
    );
    cleanup = repo.cleanup;
    const before = repo.git('rev-parse', 'main');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(repo.git('rev-parse', 'main')).toBe(before);
    expect(result.stdout + result.stderr).toContain('rm -rf sub/.git');
    expect(readState(repo.root).tasks['1B'].conflictResolved ?? false).toBe(false);
  });
});
