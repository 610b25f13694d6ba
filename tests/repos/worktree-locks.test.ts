import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { CLI, runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const commitStep = (id: string, seen: string) => [
  { write: `${id}.txt`, content: `${id}\n` },
  { bash: `git add -A && git commit -qm "${id}: work" && git worktree list --porcelain > '${seen}-${id}'` },
];

/** Lock line of every worktree, by absolute path (task worktrees may live outside the repository). */
function lockLines(git: (...a: string[]) => string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  let current = '';
  for (const line of git('worktree', 'list', '--porcelain').split('\n')) {
    if (line.startsWith('worktree ')) {
      current = line.slice('worktree '.length);
      out[current] = null;
    } else if (line.startsWith('locked')) out[current] = line;
  }
  return out;
}

describe('task worktrees are locked while in use', () => {
  it('locked with the run and task while the agent works, unlocked when the task ends (done or failed), kept on disk', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B') }, {}, { retry_attempts: 0 });
    const seen = `${repo.root}-seen`;
    cleanup = () => {
      repo.cleanup();
      for (const id of ['1A', '1B']) rmSync(`${seen}-${id}`, { force: true });
    };
    const script = {
      rules: [
        { match: 'milestone 1A:', run: { steps: commitStep('1A', seen) } },
        { match: 'milestone 1B:', run: { steps: commitStep('1B', seen), result: 'error', resultText: '1B broke' } },
      ],
    };
    writeFileSync(repo.scriptFile, JSON.stringify(script));
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const state = readState(repo.root);
    for (const id of ['1A', '1B']) {
      const during = readFileSync(`${seen}-${id}`, 'utf8');
      expect(during).toContain(`locked milestone-orchestrator run ${state.runId}, task ${id}`);
    }
    const after = lockLines(repo.git);
    const worktrees = Object.keys(after).filter((p) => /1[AB]$/.test(p));
    expect(worktrees).toHaveLength(2);
    for (const wt of worktrees) {
      expect(after[wt]).toBeNull();
      expect(existsSync(wt)).toBe(true);
    }
  });

  it("status names the run's lock; clean unlocks a run's lock (the run is not live) and removes it, and keeps someone else's", async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B') }, {
      rules: [
        { match: 'milestone 1A:', run: { steps: [{ write: '1A.txt', content: '1A\n' }] } },
        { match: 'milestone 1B:', run: { steps: [{ write: '1B.txt', content: '1B\n' }, { bash: 'git add -A && git commit -qm 1B' }], result: 'error' } },
      ],
    }, { retry_attempts: 0 });
    cleanup = repo.cleanup;
    expect((await runCli([], { cwd: repo.root, env: repo.env })).exitCode).toBe(1);
    const runId = readState(repo.root).runId;
    const names = Object.keys(lockLines(repo.git));
    const wt = (id: string) => names.find((p) => p.endsWith(id))!;
    // As a crash would leave them: 1B still locked by its run; 1A locked by you.
    repo.git('worktree', 'lock', '--reason', `milestone-orchestrator run ${runId}, task 1B`, wt('1B'));
    repo.git('worktree', 'lock', '--reason', 'my experiment', wt('1A'));
    const stale = await runCli(['status'], { cwd: repo.root });
    expect(stale.stdout).toContain(`locked by run ${runId} (not running: orchestrate clean unlocks it)`);
    expect(stale.stdout).toContain('locked (my experiment)');
    const json = JSON.parse((await runCli(['status', '--json'], { cwd: repo.root })).stdout);
    expect(json.worktrees.find((w: any) => w.task === '1B')).toMatchObject({ locked: true, lockedBy: { run: runId, task: '1B' } });

    const cleaned = await runCli(['clean', '--all'], { cwd: repo.root });
    expect(cleaned.exitCode, cleaned.stdout + cleaned.stderr).toBe(0);
    expect(cleaned.stdout).toMatch(new RegExp(`Unlocked worktree \\S*1B \\(locked by run ${runId}, which is not running\\)`));
    expect(cleaned.stdout).toMatch(/Removed worktree .*1B/);
    expect(cleaned.stdout).toContain('locked with git worktree lock (my experiment)');
    expect(existsSync(wt('1A'))).toBe(true);
    expect(existsSync(wt('1B'))).toBe(false);
    expect(lockLines(repo.git)[wt('1A')]).toBe('locked my experiment');
    expect(repo.git('branch', '--list', 'milestone/1B')).toContain('milestone/1B'); // unmerged: its commits stay
  });

  it('an interrupted task keeps its lock (status says the run is not running); --resume continues in it and releases it', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [{ match: 'milestone 1A:', runs: [{ steps: [{ write: '1A.txt', content: '1A\n' }, { hang: true }] }, { steps: [{ write: '1A.txt', content: '1A\n' }] }] }] },
      { retry_attempts: 0, review: { enabled: false } },
    );
    cleanup = repo.cleanup;
    const run = execa(process.execPath, [CLI], { cwd: repo.root, env: { ...repo.env, CI: 'true' }, reject: false, stdin: 'ignore' });
    for (let i = 0; i < 300 && !readAgentLog(repo.log).some((r) => r.event === 'start'); i++) await new Promise((r) => setTimeout(r, 100));
    const locked = () => Object.entries(lockLines(repo.git)).find(([p]) => p.endsWith('1A'))?.[1];
    expect(locked()).toMatch(/^locked milestone-orchestrator run \S+, task 1A$/);
    run.kill('SIGINT');
    await run;
    const runId = readState(repo.root).runId;
    expect(locked()).toBe(`locked milestone-orchestrator run ${runId}, task 1A`);
    expect((await runCli(['status'], { cwd: repo.root })).stdout).toContain(`locked by run ${runId} (not running: orchestrate clean unlocks it)`);

    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(readState(repo.root).tasks['1A'].status).toBe('done');
    expect(locked()).toBeNull();
  });
});
