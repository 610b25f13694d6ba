import { afterEach, describe, expect, it } from 'vitest';
import type { PlanDocument } from '../../src/cli/plan-json.js';
import { runCli } from '../support/cli.js';
import { makeRepo, makeRepoWithExample, snapshotRepo, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

const withExample = makeRepoWithExample;

describe('orchestrate --validate-only --json', () => {
  it('prints the whole plan as one JSON document that agrees with the text, writes nothing', async () => {
    repo = withExample();
    const before = snapshotRepo(repo);
    const [json, text] = await Promise.all([runCli(['--validate-only', '--json'], { cwd: repo.root }), runCli(['--validate-only'], { cwd: repo.root })]);
    expect(json.stderr).toBe('');
    expect(json.exitCode).toBe(0);
    const doc = JSON.parse(json.stdout) as PlanDocument;
    expect(doc).toMatchObject({ schemaVersion: 1, valid: true, repo: repo.root, config: null, milestonesDir: 'milestones', selection: null, diagnostics: [] });
    expect(doc.tasks.map((t) => t.id)).toEqual(['1A', '1B', '2A', '2B', '3A']);
    expect(doc.tasks[0]).toMatchObject({ id: '1A', stage: 1, title: 'Project skeleton', file: 'milestones/1A.md', deps: [], estimateMinutes: 30, estimateIsDefault: false, done: false, selected: true });
    expect(doc.stages.map((s) => s.stage)).toEqual([1, 2, 3]);
    expect(doc.stages[0]!.parallelGroups).toEqual([['1A', '1B']]);
    // The text's figures, from the same plan.
    for (const s of doc.stages) {
      expect(text.stdout).toContain(`Stage ${s.stage} · ${s.tasks.length} task`);
      expect(text.stdout).toContain(`(${s.criticalPath.ids.join(' → ')})`);
    }
    expect(text.stdout).toMatch(/Critical path 3h 30m/);
    expect(doc.criticalPathMinutes).toBe(210);
    expect(doc.totalWorkMinutes).toBe(doc.tasks.reduce((n, t) => n + t.estimateMinutes, 0));
    expect(snapshotRepo(repo)).toBe(before);
  });

  it('with --stage: the selected part, every task still listed with whether it would run', async () => {
    repo = withExample();
    const result = await runCli(['--validate-only', '--json', '--stage', '1'], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as PlanDocument;
    expect(doc.selection).toEqual({ stages: [1], milestones: [], selected: ['1A', '1B'] });
    expect(doc.stages.map((s) => s.stage)).toEqual([1]);
    expect(doc.tasks.filter((t) => t.selected).map((t) => t.id)).toEqual(['1A', '1B']);
    expect(doc.tasks).toHaveLength(5);
  });

  it('with errors: still one document on stdout, valid false, each problem with file, line and column; exit 2', async () => {
    repo = makeRepo();
    repo.write('milestones/1A.md', '---\nmax_turns: four\n---\n# A\n\n## Tasks\n- x\n');
    repo.write('orchestrator.config.json', '{ "max_parallel_tasks": 0 }\n');
    const result = await runCli(['--validate-only', '--json'], { cwd: repo.root });
    expect(result.exitCode).toBe(2);
    // People still get the printed diagnostics on stderr.
    expect(result.stderr).toMatch(/milestones\/1A\.md:2:1: error: max_turns/);
    const doc = JSON.parse(result.stdout) as PlanDocument;
    expect(doc.valid).toBe(false);
    expect(doc.config).toBe('orchestrator.config.json');
    expect(doc.stages).toEqual([]);
    expect(doc.diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'error', file: 'milestones/1A.md', line: 2, col: 1, message: expect.stringMatching(/max_turns/) }),
        expect.objectContaining({ severity: 'error', file: 'orchestrator.config.json', line: 1 }),
      ]),
    );
  });
});
