import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';
import { makeRepo, snapshotRepo, type TempRepo } from '../support/git-repo.js';
import { defaultPaths } from '../support/paths.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const commitStep = (id: string) => [{ write: `${id}.txt`, content: `${id}\n` }, { bash: `git add -A && git commit -qm "${id}: work"` }];

/** 1A finishes and is merged; 1B commits work, then its agent fails: its branch holds unmerged work. */
const SCRIPT = {
  rules: [
    { match: 'milestone 1A:', run: { steps: commitStep('1A') } },
    { match: 'milestone 1B:', run: { steps: commitStep('1B'), result: 'error', resultText: '1B broke' } },
  ],
};

type EngineRepo = ReturnType<typeof makeEngineRepo>;

/** A real run with the fake agent, ending with 1A merged and 1B failed, their worktrees and _merge on disk. */
async function runWithOneFailure(): Promise<EngineRepo> {
  const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B') }, SCRIPT, { retry_attempts: 0 });
  cleanup = repo.cleanup;
  const result = await runCli([], { cwd: repo.root, env: repo.env });
  expect(result.stderr).not.toMatch(/internal error/);
  expect(result.exitCode, result.stdout + result.stderr).toBe(1);
  const state = readState(repo.root);
  expect(state.tasks['1A']).toMatchObject({ status: 'done', merged: true });
  expect(state.tasks['1B'].status).toBe('failed');
  return repo;
}

/** The registered worktrees: '.' for the main one, the others absolute (they live outside the repository). */
function worktreePaths(repo: TempRepo): string[] {
  return repo
    .git('worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length))
    .map((p) => (p === repo.root ? '.' : p));
}

/** Where the runs in these tests put their worktrees: the default, outside the repository. */
function W(repo: TempRepo): string {
  return defaultPaths(repo.root).worktreeDir;
}

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function branches(repo: TempRepo): string[] {
  return repo.git('for-each-ref', '--format=%(refname:short)', 'refs/heads/').split('\n').filter(Boolean).sort();
}

describe('orchestrate status', () => {
  it('--json agrees with the state file and lists the worktrees with their merge state; writes nothing', async () => {
    const repo = await runWithOneFailure();
    const stateFile = path.join(repo.root, '.orchestrator', 'run-state.json');
    const stateBefore = readFileSync(stateFile, 'utf8');
    const snapshot = snapshotRepo(repo);
    const result = await runCli(['status', '--json'], { cwd: repo.root });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout);
    const state = JSON.parse(stateBefore);

    expect(Object.keys(doc).sort()).toEqual(['lock', 'pause', 'repo', 'run', 'schemaVersion', 'stages', 'stateFile', 'target', 'tasks', 'totals', 'worktreeDir', 'worktrees']);
    expect(doc.run).toMatchObject({ id: state.runId, status: state.status, startedAt: state.startedAt, targetBranch: 'main', integrationBranch: null });
    expect(['failed', 'stopped']).toContain(doc.run.status);
    expect(doc.pause).toBeNull();
    expect(doc.lock).toBeNull();
    expect(doc.tasks.map((t: { id: string }) => t.id)).toEqual(['1A', '1B']);
    for (const t of doc.tasks) {
      const rec = state.tasks[t.id];
      expect(t).toMatchObject({
        status: rec.status,
        title: rec.title,
        branch: rec.branch,
        merged: rec.merged === true,
        costUsd: rec.costUsd,
        turns: rec.turns,
        durationMs: rec.durationMs,
        commit: rec.headSha ?? null,
        tokens: { input: rec.usage.inputTokens, output: rec.usage.outputTokens },
      });
      expect(t.costUsd).toBeGreaterThan(0);
    }
    expect(doc.tasks[1].reason).toMatch(/1B broke/);
    const sum = Object.values(state.tasks as Record<string, { costUsd: number }>).reduce((s, t) => s + t.costUsd, 0);
    expect(doc.totals.costUsd).toBeCloseTo(sum, 10);
    expect(doc.totals.byStatus).toMatchObject({ done: 1, failed: 1 });

    const byPath = Object.fromEntries(doc.worktrees.map((w: { path: string }) => [w.path, w]));
    expect(Object.keys(byPath).sort()).toEqual([`${W(repo)}/1A`, `${W(repo)}/1B`, `${W(repo)}/_merge`]);
    expect(byPath[`${W(repo)}/1A`]).toMatchObject({ kind: 'task', task: '1A', branch: 'milestone/1A', merged: true, dirty: false });
    expect(byPath[`${W(repo)}/1B`]).toMatchObject({ kind: 'task', task: '1B', branch: 'milestone/1B', merged: false });
    expect(byPath[`${W(repo)}/_merge`]).toMatchObject({ kind: 'merge', branch: null, merged: null });

    expect(readFileSync(stateFile, 'utf8')).toBe(stateBefore);
    expect(snapshotRepo(repo)).toBe(snapshot);
  });

  it('prints the run, each task and the worktrees for a person', async () => {
    const repo = await runWithOneFailure();
    const state = readState(repo.root);
    writeFileSync(path.join(W(repo), '1B', 'scratch.txt'), 'not committed\n');
    const result = await runCli(['status'], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`Run ${state.runId}: ${state.status}`);
    expect(out).toContain('target branch main');
    expect(out).toMatch(/^ {2}1A {2}done, merged +Task 1A$/m);
    expect(out).toMatch(/^ {2}1B {2}failed +Task 1B$/m);
    expect(out).toContain(`milestone/1A @ ${state.tasks['1A'].headSha.slice(0, 7)}`);
    expect(out).toMatch(/reason: .*1B broke/);
    expect(out).toMatch(/Total: 2 tasks \(1 done, 1 failed\)/);
    expect(out).toMatch(new RegExp(`${esc(W(repo))}/1A +milestone/1A · merged into main\n`));
    expect(out).toMatch(new RegExp(`${esc(W(repo))}/1B +milestone/1B · not merged into main · uncommitted changes\n`));
    expect(out).toMatch(new RegExp(`${esc(W(repo))}/_merge +merge worktree \\(detached at [0-9a-f]{7}\\)`));
  });

  it('shows a pause deadline, a running task\'s phase, and whether a process still runs the run', async () => {
    const repo = await runWithOneFailure();
    const stateFile = path.join(repo.root, '.orchestrator', 'run-state.json');
    const state = readState(repo.root);
    state.status = 'running';
    state.pause = { until: '2030-01-02T03:04:05.000Z', reason: 'usage limit reached' };
    state.tasks['1B'] = { ...state.tasks['1B'], status: 'running', phase: 'agent' };
    delete state.tasks['1B'].reason;
    writeFileSync(stateFile, JSON.stringify(state));

    // Local time with its offset, as the live view's clock (here a half-hour zone); --json keeps ISO UTC.
    const crashed = await runCli(['status'], { cwd: repo.root, env: { TZ: 'Asia/Kolkata' } });
    expect(crashed.exitCode).toBe(0);
    expect(crashed.stdout).toContain('paused until 2030-01-02 08:34:05 +05:30: usage limit reached');
    expect(crashed.stdout).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    expect(crashed.stdout).toMatch(/^ {2}1B {2}running \(agent\) +Task 1B$/m);
    expect(crashed.stdout).toContain('no process is running it any more');
    const json = JSON.parse((await runCli(['status', '--json'], { cwd: repo.root })).stdout);
    expect(json.pause).toEqual(state.pause);
    expect(json.tasks[1]).toMatchObject({ id: '1B', status: 'running', phase: 'agent', reason: null });

    writeFileSync(path.join(repo.root, '.orchestrator', 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'now', command: 'orchestrate' }));
    const live = await runCli(['status', '--json'], { cwd: repo.root });
    expect(JSON.parse(live.stdout).lock).toEqual({ pid: process.pid, host: hostname(), startedAt: 'now', command: 'orchestrate', alive: true });
    expect((await runCli(['status'], { cwd: repo.root })).stdout).toContain(`in progress: pid ${process.pid}`);
  });

  it('a task branch without commits of its own is "no commits yet", not "merged" (a running task\'s worktree)', async () => {
    const repo = makeRepo();
    cleanup = repo.cleanup;
    // 1A: a commit of its own, merged with --no-ff as a stage merge does; main moves on after it.
    repo.git('switch', '-q', '-c', 'milestone/1A');
    repo.write('a.txt', 'a\n');
    repo.commit('1A: work');
    repo.git('switch', '-q', 'main');
    repo.git('merge', '-q', '--no-ff', '-m', 'Merge milestone 1A', 'milestone/1A');
    repo.write('b.txt', 'b\n');
    repo.commit('later');
    // 1B: made from main, nothing committed yet (its agent is still working); 1C: made from an older main commit.
    repo.git('worktree', 'add', '-q', '-b', 'milestone/1B', path.join(W(repo), '1B'), 'main');
    repo.git('worktree', 'add', '-q', '-b', 'milestone/1C', path.join(W(repo), '1C'), 'main~1');
    repo.git('worktree', 'add', '-q', path.join(W(repo), '1A'), 'milestone/1A');

    const json = JSON.parse((await runCli(['status', '--json'], { cwd: repo.root })).stdout);
    const byTask = Object.fromEntries(json.worktrees.map((w: { task: string }) => [w.task, w]));
    expect(byTask['1A']).toMatchObject({ merged: true, ownCommits: true });
    expect(byTask['1B']).toMatchObject({ merged: true, ownCommits: false });
    expect(byTask['1C']).toMatchObject({ merged: true, ownCommits: false });
    const text = (await runCli(['status'], { cwd: repo.root })).stdout;
    expect(text).toMatch(new RegExp(`${esc(W(repo))}/1A +milestone/1A · merged into main\n`));
    expect(text).toMatch(new RegExp(`${esc(W(repo))}/1B +milestone/1B · no commits yet: nothing to merge into main\n`));
    expect(text).toMatch(new RegExp(`${esc(W(repo))}/1C +milestone/1C · no commits yet: nothing to merge into main\n`));

    // Nothing is lost by removing them, so clean still does; it says why truthfully. An integration branch that
    // was taken (main fast-forwarded to it) is merged, not empty.
    repo.git('branch', 'milestone/integration', 'main');
    const cleaned = await runCli(['clean', '--all'], { cwd: repo.root });
    expect(cleaned.exitCode).toBe(0);
    expect(cleaned.stdout).toContain(`Removed worktree ${W(repo)}/1B (milestone/1B, no commits yet: nothing to merge into main)`);
    expect(cleaned.stdout).toContain('Deleted branch milestone/1A (merged into main)');
    expect(cleaned.stdout).toContain('Deleted branch milestone/1B (no commits yet: nothing to merge into main)');
    expect(cleaned.stdout).toContain('Deleted branch milestone/integration (merged into main)');
    expect(branches(repo)).toEqual(['main']);
  });

  it('says so plainly when there is no run, and names a corrupt state file (exit 2)', async () => {
    const repo = makeRepo();
    cleanup = repo.cleanup;
    const text = await runCli(['status'], { cwd: repo.root });
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/No run recorded .* yet/);
    const json = await runCli(['status', '--json'], { cwd: repo.root });
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ run: null, tasks: [], totals: null, pause: null, worktrees: [] });
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);

    mkdirSync(path.join(repo.root, '.orchestrator'));
    writeFileSync(path.join(repo.root, '.orchestrator', 'run-state.json'), '{"version": 1, "runId": ');
    const corrupt = await runCli(['status', '--json'], { cwd: repo.root });
    expect(corrupt.exitCode).toBe(2);
    expect(corrupt.stdout).toBe('');
    expect(corrupt.stderr).toMatch(/^\.orchestrator\/run-state\.json: error: the run state file is unreadable/m);
    expect(corrupt.stderr).not.toMatch(/\n\s+at /);
  });

  it("runs no command a worktree's nested repository names (core.fsmonitor) while it looks at the worktrees", async () => {
    const repo = await runWithOneFailure();
    const wt = path.join(W(repo), '1B');
    const mark = `${repo.root}-fsmonitor-ran`;
    const g = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=a', '-c', 'user.email=a@b', ...args], { cwd, stdio: 'pipe' });
    execFileSync('git', ['init', '-q', path.join(wt, 'nested')]);
    g(path.join(wt, 'nested'), 'commit', '-q', '--allow-empty', '-m', 'n');
    g(path.join(wt, 'nested'), 'config', 'core.fsmonitor', `touch '${mark}'; false`);
    g(wt, 'add', '-A');
    g(wt, 'commit', '-q', '--no-verify', '-m', 'nested');
    expect(existsSync(mark)).toBe(false);
    expect((await runCli(['status'], { cwd: repo.root })).exitCode).toBe(0);
    expect((await runCli(['clean'], { cwd: repo.root })).exitCode).toBe(0);
    expect(existsSync(mark)).toBe(false);
    g(wt, 'status', '--porcelain'); // plain git does run it: what the test guards against
    expect(existsSync(mark)).toBe(true);
    rmSync(mark, { force: true });
  });

  it('a worktree git cannot read (its .git file overwritten) is named, with the repair command, not an internal error', async () => {
    const repo = await runWithOneFailure();
    const broken = path.join(W(repo), '1B');
    writeFileSync(path.join(broken, '.git'), 'pwned'); // e.g. a check run as the user by `orchestrate accept`
    const status = await runCli(['status'], { cwd: repo.root });
    expect(status.stderr).not.toMatch(/internal error/);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${esc(broken)} +milestone/1B · not merged into main · git cannot read it \\(fatal: invalid gitfile format: .*; git worktree repair ${esc(broken)} rewrites its .git file\\)`));
    expect(status.stdout).toMatch(new RegExp(`${esc(W(repo))}/1A +milestone/1A · merged into main\n`));
    const json = await runCli(['status', '--json'], { cwd: repo.root });
    expect(json.exitCode).toBe(0);
    const wt = JSON.parse(json.stdout).worktrees.find((w: { path: string }) => w.path === broken);
    expect(wt).toMatchObject({ dirty: true, unreadable: expect.stringContaining('invalid gitfile format') });

    // clean keeps it even with --all --force (git itself refuses to remove it) and says how to repair it; the rest goes.
    const clean = await runCli(['clean', '--all', '--force'], { cwd: repo.root });
    expect(clean.stderr).not.toMatch(/internal error/);
    expect(clean.exitCode).toBe(0);
    expect(clean.stdout).toContain(`Kept worktree ${broken}: git cannot read it (fatal: invalid gitfile format`);
    expect(clean.stdout).toContain(`git worktree repair ${broken}`);
    expect(clean.stdout).toContain(`Removed worktree ${W(repo)}/1A`);
    expect(readFileSync(path.join(broken, '1B.txt'), 'utf8')).toBe('1B\n');

    // The printed command works: after it, clean can judge the worktree again.
    try {
      execFileSync('git', ['worktree', 'repair', broken], { cwd: repo.root, stdio: 'pipe' });
    } catch {
      // git exits 1 after repairing a broken .git file
    }
    const after = await runCli(['status'], { cwd: repo.root });
    expect(after.stdout).toMatch(new RegExp(`${esc(broken)} +milestone/1B · not merged into main\n`));
  });
});

describe('orchestrate clean', () => {
  it('removes merged worktrees and _merge; keeps uncommitted changes and unmerged work until --force and --all', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A'), '1B': milestone('1B'), '1C': milestone('1C') }, { rules: [...SCRIPT.rules, { match: 'milestone 1C:', run: { steps: commitStep('1C') } }] }, { retry_attempts: 0, max_parallel_tasks: 3 });
    cleanup = repo.cleanup;
    expect((await runCli([], { cwd: repo.root, env: repo.env })).exitCode).toBe(1);
    expect(readState(repo.root).tasks['1C']).toMatchObject({ status: 'done', merged: true });
    const scratchB = path.join(W(repo), '1B', 'scratch.txt');
    const scratchC = path.join(W(repo), '1C', 'scratch.txt');
    writeFileSync(scratchB, 'not committed\n');
    writeFileSync(scratchC, 'not committed\n');
    const before = branches(repo);

    const result = await runCli(['clean'], { cwd: repo.root });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Removed worktree ${W(repo)}/1A (milestone/1A, merged into main)`);
    expect(result.stdout).toContain(`Removed worktree ${W(repo)}/_merge (merge worktree)`);
    expect(result.stdout).toContain(`Kept worktree ${W(repo)}/1B: not merged into main; uncommitted changes`);
    expect(result.stdout).toContain(`git worktree remove --force ${W(repo)}/1B`);
    expect(result.stdout).toContain('orchestrate clean --all --force');
    expect(result.stdout).toContain(`Kept worktree ${W(repo)}/1C: merged into main; uncommitted changes`);
    expect(result.stdout).toMatch(/^ {2}orchestrate clean --force {3}# loses/m);
    expect(worktreePaths(repo)).toEqual(['.', `${W(repo)}/1B`, `${W(repo)}/1C`]);
    expect(readFileSync(scratchB, 'utf8')).toBe('not committed\n');
    expect(branches(repo)).toEqual(before); // the default keeps every branch

    // --force discards uncommitted changes in merged worktrees only: unmerged work needs --all as well.
    const forced = await runCli(['clean', '--force'], { cwd: repo.root });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(new RegExp(`Removed worktree ${esc(W(repo))}/1C \\(milestone/1C, merged into main, uncommitted changes discarded`));
    expect(worktreePaths(repo)).toEqual(['.', `${W(repo)}/1B`]);

    // --all without --force still keeps the uncommitted changes, and so the branch checked out there.
    const all = await runCli(['clean', '--all'], { cwd: repo.root });
    expect(all.exitCode).toBe(0);
    expect(all.stdout).toContain(`Kept worktree ${W(repo)}/1B: not merged into main; uncommitted changes`);
    expect(all.stdout).toContain(`Kept branch milestone/1B: checked out in ${W(repo)}/1B`);
    expect(worktreePaths(repo)).toEqual(['.', `${W(repo)}/1B`]);
    expect(branches(repo)).toEqual(['main', 'milestone/1B']);

    const allForced = await runCli(['clean', '--all', '--force'], { cwd: repo.root });
    expect(allForced.exitCode).toBe(0);
    expect(allForced.stdout).toMatch(new RegExp(`Removed worktree ${esc(W(repo))}/1B \\(.*uncommitted changes discarded`));
    expect(worktreePaths(repo)).toEqual(['.']);
    expect(branches(repo)).toEqual(['main']);
    expect(existsSync(W(repo))).toBe(false);
  });

  it('--all deletes only merged branches (and unmerged ones with --force); never the user\'s branches', async () => {
    const repo = await runWithOneFailure();
    repo.git('branch', 'feature/mine');
    repo.git('branch', 'milestone/notes'); // has the prefix, but is not a milestone id: not the orchestrator's
    repo.git('branch', 'milestone/integration', 'milestone/1B'); // unmerged integration result

    const all = await runCli(['clean', '--all'], { cwd: repo.root });
    expect(all.stderr).toBe('');
    expect(all.exitCode).toBe(0);
    // A clean worktree of an unmerged branch goes; the branch keeps its commits.
    expect(all.stdout).toContain(`Removed worktree ${W(repo)}/1B (milestone/1B, not merged into main)`);
    expect(all.stdout).toContain('Deleted branch milestone/1A (merged into main)');
    expect(all.stdout).toContain('Kept branch milestone/1B: not merged into main');
    expect(all.stdout).toContain('git branch -D milestone/1B');
    expect(all.stdout).toContain('Kept branch milestone/integration: not merged into main');
    expect(branches(repo)).toEqual(['feature/mine', 'main', 'milestone/1B', 'milestone/integration', 'milestone/notes']);
    expect(worktreePaths(repo)).toEqual(['.']);

    const forced = await runCli(['clean', '--all', '--force'], { cwd: repo.root });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(/Deleted branch milestone\/1B \(not merged into main, its commits discarded/);
    expect(branches(repo)).toEqual(['feature/mine', 'main', 'milestone/notes']);
    expect(repo.git('status', '--porcelain')).toBe('?? TASKS.md');
  });

  it('refuses while a live run holds the lock (exit 4), and takes over a stale one', async () => {
    const repo = await runWithOneFailure();
    const lockFile = path.join(repo.root, '.orchestrator', 'lock');
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'orchestrate' }));
    const snapshot = snapshotRepo(repo);
    const refused = await runCli(['clean', '--all', '--force'], { cwd: repo.root });
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain(`pid ${process.pid}`);
    expect(snapshotRepo(repo)).toBe(snapshot);
    expect(existsSync(lockFile)).toBe(true);

    const deadPid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
    writeFileSync(lockFile, JSON.stringify({ pid: deadPid, host: hostname(), startedAt: new Date().toISOString(), command: 'orchestrate' }));
    const taken = await runCli(['clean'], { cwd: repo.root });
    expect(taken.exitCode).toBe(0);
    expect(taken.stdout).toContain(`stale lock from pid ${deadPid}`);
    expect(taken.stdout).toContain(`Removed worktree ${W(repo)}/1A`);
    expect(existsSync(lockFile)).toBe(false); // released
  });

  it('removes the copies of node_modules a provisioning cut off by kill -9 left beside the worktrees, nothing else', async () => {
    const repo = makeRepo();
    cleanup = repo.cleanup;
    const leftover = path.join(W(repo), '.1A.node_modules.provisioning');
    mkdirSync(path.join(leftover, 'pkg'), { recursive: true });
    writeFileSync(path.join(leftover, 'pkg/index.js'), 'partial');
    mkdirSync(path.join(W(repo), 'notes'), { recursive: true });

    const result = await runCli(['clean'], { cwd: repo.root });

    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Removed ${leftover} (an interrupted copy of node_modules)`);
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(path.join(W(repo), 'notes'))).toBe(true);
  });

  it('in a repository that never ran: nothing to clean, and nothing left behind', async () => {
    const repo = makeRepo();
    cleanup = repo.cleanup;
    const snapshot = snapshotRepo(repo);
    const result = await runCli(['clean', '--all'], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Nothing to clean/);
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);
    expect(snapshotRepo(repo)).toBe(snapshot);
  });
});
