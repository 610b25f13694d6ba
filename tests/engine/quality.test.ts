import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readAgentLog, readState } from '../support/engine-fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const approve = { structuredOutput: { verdict: 'approve', summary: 'All exit criteria met.', findings: [] } };
const requestChanges = (message: string) => ({
  structuredOutput: { verdict: 'request_changes', summary: 'Missing pieces.', findings: [{ severity: 'major', file: 'a.txt', line: 1, message }] },
});
const write = (file: string, content = `${file}\n`) => ({ steps: [{ write: file, content }] });
/** Reviewer rules come first: a review prompt also names the milestone. */
const reviewOf = (id: string) => `reviewing the work done for milestone ${id}:`;
const workOn = (id: string) => `milestone ${id}:`;

function starts(log: string, key: string) {
  return readAgentLog(log).filter((r) => r.event === 'start' && r.key === key) as unknown as Array<{ prompt: string; resumed: boolean; sessionId: string; argv: string[] }>;
}

describe('the quality gate', () => {
  it('merges a task approved at once, after one review with read-only tools', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { rules: [{ match: reviewOf('1A'), run: approve }, { match: workOn('1A'), run: write('a.txt') }] }, { review: { enabled: true } });
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const task = readState(repo.root).tasks['1A'];
    expect(task.rounds).toHaveLength(1);
    expect(task.rounds[0]).toMatchObject({ round: 1, verdict: 'approve', summary: 'All exit criteria met.' });
    expect(task.merged).toBe(true);
    const [review] = starts(repo.log, reviewOf('1A'));
    expect(review!.argv.join(' ')).toContain('--json-schema');
    expect(review!.argv.join(' ')).toMatch(/--disallowedTools[^-]*Write/);
    expect(review!.prompt).toContain('a.txt'); // the diff is in the prompt
  });

  it('sends request_changes findings back to the worker session and merges after approval', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      {
        rules: [
          { match: reviewOf('1A'), runs: [requestChanges('tests for the parser are missing'), approve] },
          { match: workOn('1A'), runs: [write('a.txt'), write('a.test.txt')] },
        ],
      },
      { review: { enabled: true, max_rounds: 3 } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const task = readState(repo.root).tasks['1A'];
    expect(task.rounds.map((r: any) => r.verdict)).toEqual(['request_changes', 'approve']);
    expect(task.rounds[0].findings[0]).toMatchObject({ severity: 'major', file: 'a.txt', message: 'tests for the parser are missing' });
    const work = starts(repo.log, workOn('1A'));
    expect(work).toHaveLength(2);
    expect(work[1]).toMatchObject({ resumed: true, sessionId: work[0]!.sessionId });
    expect(work[1]!.prompt).toContain('tests for the parser are missing');
    expect(existsSync(path.join(repo.root, 'a.test.txt'))).toBe(true);
  });

  it('marks a task never approved as needs_attention, keeps its branch unmerged, merges the rest of the stage', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          { match: reviewOf('1A'), run: requestChanges('still wrong') },
          { match: reviewOf('1B'), run: approve },
          { match: workOn('1A'), run: write('a.txt') },
          { match: workOn('1B'), run: write('b.txt') },
        ],
      },
      { review: { enabled: true, max_rounds: 1 } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(1);
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('needs_attention');
    expect(state.tasks['1A'].rounds).toHaveLength(2);
    expect(state.tasks['1A'].merged).toBeUndefined();
    expect(state.tasks['1B'].merged).toBe(true);
    expect(repo.git('branch', '--list', 'milestone/1A')).toContain('milestone/1A');
    expect(existsSync(path.join(repo.root, 'b.txt'))).toBe(true);
    expect(existsSync(path.join(repo.root, 'a.txt'))).toBe(false);
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toMatch(/1A .*needs attention/);
  });

  it('returns a failing check to the worker and passes once it is fixed', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A', { frontMatter: 'checks:\n  - test -f fixed.txt' }) },
      { rules: [{ match: workOn('1A'), runs: [write('a.txt'), write('fixed.txt')] }] },
      { review: { enabled: false } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const task = readState(repo.root).tasks['1A'];
    expect(task.rounds.map((r: any) => r.checks[0].ok)).toEqual([false, true]);
    expect(task.rounds[0].checks[0]).toMatchObject({ command: 'test -f fixed.txt', exitCode: 1 });
    expect(starts(repo.log, workOn('1A'))[1]!.prompt).toContain('`test -f fixed.txt` exited with 1');
  });

  it('has an agent resolve a merge conflict, checks the merged result, and merges', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          { match: 'resolving a git merge conflict', run: { steps: [{ write: 'same.txt', content: 'from A\nfrom B\n' }, { bash: 'git add same.txt' }] } },
          { match: workOn('1A'), run: write('same.txt', 'from A\n') },
          { match: workOn('1B'), run: write('same.txt', 'from B\n') },
        ],
      },
      { review: { enabled: false }, checks: { commands: ['test -f same.txt && ! grep -q "<<<<<<<" same.txt'] } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(path.join(repo.root, 'same.txt'), 'utf8')).toBe('from A\nfrom B\n');
    const state = readState(repo.root);
    expect(state.tasks['1B'].conflictResolved).toBe(true);
    const [resolver] = starts(repo.log, 'resolving a git merge conflict');
    expect(resolver!.prompt).toContain('same.txt');
    expect(resolver!.prompt).toContain('1A');
  });

  it('stops with a clear report and leaves the target as it was when a conflict cannot be resolved', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B'), '2A': milestone('2A') },
      {
        rules: [
          { match: 'resolving a git merge conflict', run: { result: 'error', resultText: 'cannot decide' } },
          { match: workOn('1A'), run: write('same.txt', 'from A\n') },
          { match: workOn('1B'), run: write('same.txt', 'from B\n') },
          { match: workOn('2A'), run: write('two.txt') },
        ],
      },
      { review: { enabled: false } },
    );
    cleanup = repo.cleanup;
    const before = repo.git('rev-parse', 'main');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode).toBe(1);
    expect(repo.git('rev-parse', 'main')).toBe(before);
    expect(result.stdout).toMatch(/conflicts in same\.txt/);
    const state = readState(repo.root);
    expect(state.tasks['2A'].status).toBe('skipped');
    expect(starts(repo.log, workOn('2A'))).toHaveLength(0);
  });
});
