import { describe, expect, it } from 'vitest';
import type { Milestone } from '../../src/milestones/types.js';
import { validateMilestones } from '../../src/milestones/validate.js';
import { codes, milestoneText, only, parse } from './helpers.js';

/** Builds milestones from `id -> Dependencies section text`; each dependency list starts on line 10. */
function milestones(deps: Record<string, string>): Milestone[] {
  return Object.entries(deps).map(([id, text]) => {
    const { milestone } = parse(milestoneText(id, { deps: text }), id);
    return milestone;
  });
}

describe('validateMilestones', () => {
  it('accepts dependencies within a stage and on earlier stages', () => {
    expect(validateMilestones(milestones({ '1A': 'None', '1B': '- 1A', '2A': '- 1A\n- 1B', '2B': '- 2A', '3A': '- 1A' }))).toEqual([]);
  });

  it('reports an unknown dependency at the reference, suggesting a near id', () => {
    const d = only(validateMilestones(milestones({ '1A': 'None', '2C': '- 1A\n- 1B' })), 'unknown-dependency');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/2C.md', line: 11, col: 3 });
    expect(d.message).toBe('2C depends on 1B, but there is no milestone 1B');
    expect(d.hint).toContain('did you mean 1A?');
    expect(d.hint).toContain('existing milestones: 1A, 2C');
  });

  it('does not suggest the milestone itself', () => {
    const diagnostics = validateMilestones(milestones({ '1A': 'None', '2A': '- 2B' }));
    expect(only(diagnostics, 'unknown-dependency').hint).not.toContain('did you mean');
  });

  it('does not guess when several ids are equally near', () => {
    const d = only(validateMilestones(milestones({ '1A': 'None', '1B': 'None', '2C': '- 1C' })), 'unknown-dependency');
    expect(d.hint).not.toContain('did you mean');
    expect(d.hint).toContain('create 1C.md or remove the reference');
  });

  it('does not call a milestone unknown when its file exists but could not be loaded', () => {
    expect(validateMilestones(milestones({ '1A': 'None', '1B': '- 1C' }), { unloadableIds: ['1C'] })).toEqual([]);
  });

  it('reports a dependency on itself', () => {
    const d = only(validateMilestones(milestones({ '1A': 'None', '1B': '- 1A\n- 1B' })), 'self-dependency');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1B.md', line: 11, col: 3, message: '1B depends on itself' });
  });

  it('reports a dependency on a later stage and explains stage order', () => {
    const d = only(validateMilestones(milestones({ '1A': '- 2A', '2A': 'None' })), 'dependency-on-later-stage');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md', line: 10, col: 3 });
    expect(d.message).toBe('1A (stage 1) depends on 2A, which is in the later stage 2');
    expect(d.hint).toContain('stages run in order');
    expect(d.hint).toContain('move 1A to stage 2');
  });

  it('reports a same-stage cycle once, naming its members in order, at the first member', () => {
    const diagnostics = validateMilestones(milestones({ '1A': 'None', '2A': '- 1A\n- 2B', '2B': '- 2C', '2C': '- 2A' }));
    const d = only(diagnostics, 'dependency-cycle');
    expect(d.message).toBe('dependency cycle: 2A -> 2B -> 2C -> 2A');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/2A.md', line: 11, col: 3 });
    expect(d.hint).toContain("2C's dependency on 2A");
  });

  it('reports separate cycles separately, and mentions members tangled in a cycle', () => {
    const diagnostics = validateMilestones(
      milestones({ '1A': '- 1B', '1B': '- 1A', '2A': '- 2B\n- 2D', '2B': '- 2A', '2D': '- 2B' }),
    );
    expect(codes(diagnostics)).toEqual(['dependency-cycle', 'dependency-cycle']);
    expect(diagnostics[0]?.message).toBe('dependency cycle: 1A -> 1B -> 1A');
    expect(diagnostics[1]?.message).toBe('dependency cycle: 2A -> 2B -> 2A (2D is caught up in it too)');
  });

  it('warns about a gap between stages', () => {
    const d = only(validateMilestones(milestones({ '1A': 'None', '3A': 'None', '3B': 'None' })), 'stage-gap');
    expect(d).toMatchObject({ severity: 'warning', file: 'milestones/3A.md', message: 'there are no milestones in stage 2, between stage 1 and stage 3' });
    expect(d.hint).toContain('3A.md -> 2A.md');
    const wide = only(validateMilestones(milestones({ '1A': 'None', '5A': 'None' })), 'stage-gap');
    expect(wide.message).toContain('stages 2-4');
  });

  it('does not warn when the first stage is not 1', () => {
    expect(validateMilestones(milestones({ '2A': 'None', '3A': 'None' }))).toEqual([]);
  });
});
