import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { defaultPaths } from '../support/paths.js';
import { makeEngineRepo, maxConcurrent, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const SIX = {
  '1A': milestone('1A', { estimate: '1 hour' }),
  '1B': milestone('1B'),
  '1C': milestone('1C', { deps: ['1A'] }),
  '2A': milestone('2A', { deps: ['1A'] }),
  '2B': milestone('2B'),
  '2C': milestone('2C', { deps: ['2A'] }),
};

/** A shell step that arrives at a barrier and waits (at most ~10 s) until `count` agents have arrived. */
function barrierStep(dir: string, id: string, count: number): string {
  return `touch '${dir}/${id}'; i=0; while [ "$(ls '${dir}' | wc -l)" -lt ${count} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`;
}

/** Each task writes its own file and commits it; 2A also checks that stage 1's work is there. */
function script(barrier?: string) {
  const rule = (id: string, extra: object[] = []) => ({
    match: `milestone ${id}:`,
    run: {
      steps: [
        // 1A and 1B are the only tasks ready at the start: make them meet, so parallelism is shown, not hoped for.
        ...(barrier && (id === '1A' || id === '1B') ? [{ bash: barrierStep(barrier, id, 2) }] : []),
        ...extra,
        { write: `${id}.txt`, content: `${id}\n` },
        { bash: `git add -A && git commit -qm "${id}: work"` },
      ],
    },
  });
  return {
    rules: [
      rule('1A'),
      rule('1B'),
      rule('1C'),
      // Fails loudly unless stage 1's merged work is in the worktree.
      rule('2A', [{ bash: 'test -f 1A.txt && test -f 1B.txt && test -f 1C.txt' }]),
      rule('2B'),
      rule('2C', [{ bash: 'test -f 2A.txt' }]),
    ],
  };
}

describe('a run with the fake agent', () => {
  it('runs 2 stages x 3 tasks on their own branches, merges each stage, honours max_parallel_tasks', async () => {
    const barrier = mkdtempSync(path.join(tmpdir(), 'mo-barrier-'));
    const repo = makeEngineRepo(SIX, script(barrier));
    cleanup = () => {
      repo.cleanup();
      rmSync(barrier, { recursive: true, force: true });
    };
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);

    const state = readState(repo.root);
    expect(state.status).toBe('completed');
    for (const id of Object.keys(SIX)) {
      expect(state.tasks[id].status).toBe('done');
      expect(state.tasks[id].merged).toBe(true);
      // The task branch holds the agent's own commit.
      expect(repo.git('log', '--format=%s', `milestone/${id}`)).toContain(`${id}: work`);
    }
    // Every file is on main, merged with --no-ff in milestone order per stage.
    for (const id of Object.keys(SIX)) expect(existsSync(path.join(repo.root, `${id}.txt`))).toBe(true);
    const merges = repo.git('log', '--merges', '--first-parent', '--format=%s', 'main').split('\n').reverse();
    expect(merges).toEqual(['Merge milestone 1A: Task 1A', 'Merge milestone 1B: Task 1B', 'Merge milestone 1C: Task 1C', 'Merge milestone 2A: Task 2A', 'Merge milestone 2B: Task 2B', 'Merge milestone 2C: Task 2C']);
    // Stage 2's branches start from stage 1's merged result.
    const stage1Merged = state.stages[0].mergedSha;
    expect(repo.git('merge-base', '--is-ancestor', stage1Merged, 'milestone/2B') === '').toBe(true);

    const log = readAgentLog(repo.log);
    expect(log.filter((r) => r.event === 'start')).toHaveLength(6);
    expect(maxConcurrent(log)).toBeLessThanOrEqual(2);
    expect(maxConcurrent(log)).toBe(2); // and parallelism was actually used

    const tasksMd = readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8');
    expect(tasksMd).toContain('6/6 tasks done');
    // The user's tree holds nothing but the orchestrator's own TASKS.md.
    expect(repo.git('status', '--porcelain')).toBe('?? TASKS.md');
  });

  it('never runs more agents than max_parallel_tasks when many are ready', async () => {
    const letters = ['A', 'B', 'C', 'D', 'E'];
    const many = Object.fromEntries(letters.map((l) => [`1${l}`, milestone(`1${l}`)]));
    const barrier = mkdtempSync(path.join(tmpdir(), 'mo-barrier-'));
    // Each agent waits (bounded) until 3 have arrived, so the overlap is certain even on a loaded machine;
    // if the limit let a 4th in, the log would show it.
    const rules = letters.map((l) => ({ match: `milestone 1${l}:`, run: { steps: [{ bash: barrierStep(barrier, `1${l}`, 3) }, { write: `${l}.txt`, content: l }] } }));
    const repo = makeEngineRepo(many, { rules }, { max_parallel_tasks: 3 });
    cleanup = () => {
      repo.cleanup();
      rmSync(barrier, { recursive: true, force: true });
    };
    const result = await runCli(['--stage', '1'], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const log = readAgentLog(repo.log);
    expect(log.filter((r) => r.event === 'start')).toHaveLength(5);
    expect(maxConcurrent(log)).toBe(3);
  });

  it('fails a task whose agent fails, skips its dependents, merges the rest of the stage, and stops the run', async () => {
    const repo = makeEngineRepo(SIX, { ...script(), rules: [{ match: 'milestone 1A:', run: { result: 'error', resultText: 'something broke' } }, ...script().rules.slice(1)] });
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(1);
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('failed');
    expect(state.tasks['1A'].reason).toMatch(/something broke/);
    expect(state.tasks['1C'].status).toBe('skipped');
    expect(state.tasks['1B'].status).toBe('done');
    expect(state.tasks['1B'].merged).toBe(true);
    expect(state.tasks['2B'].status).toBe('skipped');
    expect(existsSync(path.join(repo.root, '1B.txt'))).toBe(true);
    expect(result.stdout).toMatch(/orchestrate --resume/);
  });

  it('does not count a task that changed nothing as done', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: { steps: [{ text: 'nothing to do' }] } });
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(1);
    expect(readState(repo.root).tasks['1A'].reason).toMatch(/without changing anything/);
  });

  it('commits what the agent left uncommitted, naming the milestone', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: { steps: [{ write: 'left.txt', content: 'uncommitted' }] } });
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(repo.git('log', '-1', '--format=%s', 'milestone/1A')).toBe('1A: Task 1A');
  });

  it('refuses leftovers from an earlier run, with the commands that fix them', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: { steps: [{ write: 'a.txt', content: 'a' }] } });
    cleanup = repo.cleanup;
    repo.git('branch', 'milestone/1A');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/milestone\/1A/);
    // No run state records the branch: nothing to resume, so the hint is the way to discard it (tests/engine/hints).
    expect(result.stderr).toMatch(/orchestrate clean --all --force/);
  });

  it('fails fast, creating nothing, when no agent can run', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, {}, { agent: { command: ['/nonexistent/claude'] } });
    cleanup = repo.cleanup;
    const before = repo.git('for-each-ref');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/agent/);
    expect(repo.git('for-each-ref')).toBe(before);
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);
  });
});

describe('a bad prompt template', () => {
  it('is refused with the key and the path, before anything is created', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, {}, { agent: { prompt_template: 'prompts/missing.md' } });
    cleanup = repo.cleanup;
    const before = repo.git('for-each-ref');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/agent\.prompt_template: cannot read .*prompts\/missing\.md \(ENOENT\)/);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(repo.git('for-each-ref')).toBe(before);
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);
    expect(existsSync(defaultPaths(repo.root).worktreeDir)).toBe(false);
  });
});
