import { describe, expect, it } from 'vitest';
import { hasErrors } from '../../src/diagnostics.js';
import { selectTasks } from '../../src/plan/select.js';
import { planOf } from './fixtures.js';

// Stage 1: 1A, 1B → 1C.  Stage 2: 2A (needs 1A), 2B.  Stage 3: 3A.
const plan = planOf([
  { id: '1A' },
  { id: '1B' },
  { id: '1C', deps: ['1B'] },
  { id: '2A', deps: ['1A'] },
  { id: '2B' },
  { id: '3A' },
]);
const none = new Set<string>();

describe('selectTasks', () => {
  it('selects everything not yet done when nothing is asked for', () => {
    expect(selectTasks(plan, {}, none)).toEqual({
      selected: ['1A', '1B', '1C', '2A', '2B', '3A'],
      diagnostics: [],
    });
    expect(selectTasks(plan, { stages: [], milestones: [] }, new Set(['1A', '1B'])).selected).toEqual([
      '1C',
      '2A',
      '2B',
      '3A',
    ]);
  });

  it('selects a stage whose earlier stages are done, minus its done tasks', () => {
    const done = new Set(['1A', '1B', '1C', '2B']);
    expect(selectTasks(plan, { stages: [2] }, done)).toEqual({ selected: ['2A'], diagnostics: [] });
  });

  it('combines --stage and --milestone and forgives the spelling of ids', () => {
    const result = selectTasks(plan, { stages: [1], milestones: ['2a', ' 2B.md '] }, none);
    expect(result).toEqual({ selected: ['1A', '1B', '1C', '2A', '2B'], diagnostics: [] });
  });

  it('reports an unknown stage with the stages that exist', () => {
    const { diagnostics } = selectTasks(plan, { stages: [7] }, none);
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', code: 'unknown-stage', hint: 'stages with milestones: 1, 2, 3' }),
    ]);
  });

  it('reports an unknown milestone with a did-you-mean', () => {
    const { diagnostics } = selectTasks(plan, { milestones: ['1CC', '1A'] }, none);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: 'unknown-milestone', message: 'There is no milestone "1CC".' }),
    ]);
    expect(diagnostics[0]?.hint).toMatch(/^did you mean "1C"\? milestones: 1A, 1B, 1C/);
  });

  it('does not suggest an unrelated id for an unknown milestone, and lists the ones that exist', () => {
    // Every two-character id is within two edits of every other: "9Z" is not a typo of anything.
    const { diagnostics } = selectTasks(plan, { milestones: ['9Z'] }, none);
    const ids = plan.stages.flatMap((s) => s.tasks.map((t) => t.id)).join(', ');
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'unknown-milestone', hint: `milestones: ${ids}` })]);
  });

  it('requires same-stage dependencies, naming exactly what is missing', () => {
    const { selected, diagnostics } = selectTasks(plan, { milestones: ['1C'] }, none);
    expect(selected).toEqual(['1C']);
    expect(diagnostics).toEqual([
      {
        severity: 'error',
        code: 'dependencies-not-done',
        message: '1C cannot run: 1B is neither done nor selected.',
        hint: 'Select them too (--milestone 1B) or run them first.',
      },
    ]);
  });

  it('accepts dependencies that are done or selected', () => {
    expect(selectTasks(plan, { milestones: ['1C'] }, new Set(['1B'])).diagnostics).toEqual([]);
    expect(selectTasks(plan, { milestones: ['1B', '1C'] }, none).diagnostics).toEqual([]);
  });

  it('requires every earlier stage, not just direct dependencies, and suggests --stage', () => {
    const { diagnostics } = selectTasks(plan, { stages: [2] }, new Set(['1A']));
    // 2B depends on nothing and 2A only on the done 1A, but stage 1 has not finished.
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: 'dependencies-not-done',
      message: '2A, 2B cannot run: 1B, 1C are neither done nor selected.',
    });
    expect(diagnostics[0]?.hint).toBe(
      'Select them too (--stage 1) or run them first. Stages run in order, so every earlier stage must be done or selected.',
    );
  });

  it('names the transitive closure so one round of following the hint is enough', () => {
    const { diagnostics } = selectTasks(plan, { milestones: ['3A'] }, new Set(['1A', '1B']));
    expect(diagnostics.map((d) => d.message)).toEqual(['3A cannot run: 1C, 2A, 2B are neither done nor selected.']);
    expect(diagnostics[0]?.hint).toContain('(--milestone 1C --stage 2)');
  });

  it('warns when a named milestone is already done and does not select it', () => {
    const done = new Set(['1A']);
    const { selected, diagnostics } = selectTasks(plan, { milestones: ['1A', '1B'] }, done);
    expect(selected).toEqual(['1B']);
    expect(diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'already-done' })]);
    expect(hasErrors(diagnostics)).toBe(false);
  });

  it('warns when there is nothing left to run', () => {
    const all = new Set(['1A', '1B', '1C', '2A', '2B', '3A']);
    expect(selectTasks(plan, {}, all).diagnostics).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'nothing-to-run' }),
    ]);
  });
});
