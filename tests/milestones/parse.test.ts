import { describe, expect, it } from 'vitest';
import { shortTitle } from '../../src/milestones/content-checks.js';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { codes, milestoneText, only, parse, SEED_1A } from './helpers.js';

describe('parseMilestone: the seed format', () => {
  it('reads every section of the README example with the right lines and no diagnostics', () => {
    const { milestone, diagnostics } = parse(SEED_1A);
    expect(diagnostics).toEqual([]);
    expect(milestone).toMatchObject({ id: '1A', stage: 1, letter: 'A', file: 'milestones/1A.md', title: 'Initial Setup', titleLine: 1 });
    expect(milestone.sections.description).toEqual({ heading: 'Description', text: 'Create the foundational project structure and configuration.', line: 3 });
    expect(milestone.sections.entryRequirements?.line).toBe(6);
    expect(milestone.sections.tasks).toEqual({
      heading: 'Tasks',
      text: '1. Create project directory structure\n2. Initialize package.json\n3. Setup configuration files\n4. Create README.md',
      line: 10,
    });
    expect(milestone.sections.exitCriteria?.text).toBe('- All files created and committed\n- Tests pass\n- Documentation updated');
    expect(milestone.sections.dependencies?.line).toBe(21);
    expect(milestone.sections.estimatedTime).toEqual({ heading: 'Estimated Time', text: '2 hours', line: 24 });
    expect(milestone.dependencies).toEqual([]);
    expect(milestone.estimateMinutes).toBe(120);
    expect(milestone.settings).toEqual({});
    expect(milestone.body).toBe(SEED_1A);
  });

  it('gives the same result for CRLF line endings', () => {
    const lf = parse(SEED_1A);
    const crlf = parse(SEED_1A.replace(/\n/g, '\r\n'));
    expect(crlf.diagnostics).toEqual([]);
    expect(crlf.milestone).toEqual(lf.milestone);
  });

  it('counts lines right when CRLF, LF and lone CR are mixed', () => {
    const lines = SEED_1A.split('\n');
    const endings = ['\r\n', '\n', '\r'];
    const mixed = lines.map((line, i) => line + (i < lines.length - 1 ? endings[i % 3] : '')).join('');
    const { milestone, diagnostics } = parse(mixed);
    expect(diagnostics).toEqual([]);
    expect(milestone.sections.tasks?.line).toBe(10);
    expect(milestone.sections.estimatedTime?.line).toBe(24);
    expect(milestone.sections.tasks?.text).not.toContain('\r');
  });

  it('strips a UTF-8 BOM without shifting lines or breaking front matter', () => {
    const { milestone, diagnostics } = parse(`\uFEFF---\nmodel: sonnet\n---\n${SEED_1A}`);
    expect(diagnostics).toEqual([]);
    expect(milestone.settings).toEqual({ model: 'sonnet' });
    expect(milestone.title).toBe('Initial Setup');
    expect(milestone.titleLine).toBe(4);
    expect(milestone.sections.tasks?.line).toBe(13);
    expect(milestone.body.startsWith('# Milestone 1A')).toBe(true);
  });
});

describe('parseMilestone: section headings', () => {
  it.each([
    ['### Tasks', 'tasks'],
    ['## tasks:', 'tasks'],
    ['#   Tasks  ', 'tasks'],
    ['## **Tasks**', 'tasks'],
    ['## 2. Tasks', 'tasks'],
    ['## exit criteria:', 'exitCriteria'],
    ['## Exit-Criteria', 'exitCriteria'],
    ['## Acceptance Criteria', 'exitCriteria'],
    ['## Entry requirements', 'entryRequirements'],
    ['## Estimated time', 'estimatedTime'],
    ['## Estimate', 'estimatedTime'],
    ['## Time Estimate:', 'estimatedTime'],
    ['## Depends on', 'dependencies'],
    ['## DEPENDENCIES', 'dependencies'],
    ['## Overview', 'description'],
    // A trailing remark: without this, "- 1B" under it was silently not a dependency at all.
    ['## Dependencies (optional)', 'dependencies'],
    ['### Estimated Time (rough):', 'estimatedTime'],
    ['## 🚀 Tasks', 'tasks'],
  ])('recognises %j as %s', (heading, key) => {
    const { milestone } = parse(`# Title\n\n${heading}\nsome text\n`);
    const section = milestone.sections[key as keyof typeof milestone.sections];
    expect(section).toEqual({ heading: expect.any(String), text: 'some text', line: 3 });
  });

  it('recognises setext headings', () => {
    const { milestone } = parse('Title\n=====\n\nTasks\n-----\n1. do it\n');
    expect(milestone.title).toBe('Title');
    expect(milestone.sections.tasks).toEqual({ heading: 'Tasks', text: '1. do it', line: 4 });
  });

  it('keeps sub-headings inside a section, and ends it at the next heading of the same level', () => {
    const text = '# T\n\n## Tasks\n### Backend\n- api\n### Frontend\n- ui\n\n## Notes\nfree text\n';
    const { milestone } = parse(text);
    expect(milestone.sections.tasks?.text).toBe('### Backend\n- api\n### Frontend\n- ui');
  });

  it('ends a section at a recognised section heading even when it is nested deeper', () => {
    const { milestone } = parse('# T\n\n## Tasks\n- a\n### Exit Criteria\n- done\n');
    expect(milestone.sections.tasks?.text).toBe('- a');
    expect(milestone.sections.exitCriteria).toEqual({ heading: 'Exit Criteria', text: '- done', line: 5 });
  });

  it('ignores headings inside lists and block quotes', () => {
    const { milestone } = parse('# T\n\n## Description\n> ## Tasks\n> quoted\n\nmore\n');
    expect(milestone.sections.tasks).toBeUndefined();
    expect(milestone.sections.description?.text).toBe('> ## Tasks\n> quoted\n\nmore');
  });

  it('warns about a duplicate section and keeps the first', () => {
    const { milestone, diagnostics } = parse('# T\n\n## Tasks\n- first\n\n## Exit Criteria\n- ok\n\n## Tasks\n- second\n');
    expect(milestone.sections.tasks?.text).toBe('- first');
    const d = only(diagnostics, 'duplicate-section');
    expect(d).toMatchObject({ severity: 'warning', file: 'milestones/1A.md', line: 9, col: 1 });
    expect(d.message).toContain('first is on line 3');
    expect(d.hint).toContain('merge');
  });

  it('warns about an empty section', () => {
    const { diagnostics } = parse('# T\n\n## Tasks\n- a\n\n## Exit Criteria\n<!-- later -->\n\n## Estimated Time\n1h\n');
    expect(only(diagnostics, 'empty-section')).toMatchObject({ severity: 'warning', line: 6, col: 1 });
  });
});

describe('parseMilestone: title', () => {
  it('warns and uses the id when there is no heading to use as title', () => {
    const { milestone, diagnostics } = parse('## Tasks\n- a\n\n## Exit Criteria\n- b\n\n## Estimated Time\n1h\n');
    expect(milestone.title).toBe('1A');
    const d = only(diagnostics, 'no-title');
    expect(d).toMatchObject({ severity: 'warning', file: 'milestones/1A.md', line: 1, col: 1 });
    expect(d.hint).toContain('# Milestone 1A');
  });

  it('falls back to a leading non-section heading of another level, with a warning', () => {
    const { milestone, diagnostics } = parse('## Milestone 1A: Setup\n\n## Tasks\n- a\n\n## Exit Criteria\n- b\n\n## Estimate\n1h\n');
    expect(milestone.title).toBe('Setup');
    expect(only(diagnostics, 'no-title')).toMatchObject({ line: 1, col: 1, hint: 'make it a level-1 heading: "# Milestone 1A: Setup"' });
  });

  it('does not take a "# Tasks" heading for the title', () => {
    const { milestone } = parse('# Tasks\n- a\n');
    expect(milestone.title).toBe('1A');
    expect(milestone.sections.tasks?.text).toBe('- a');
  });

  it('warns when the title names another milestone', () => {
    const { diagnostics } = parse(milestoneText('1A', { title: 'Milestone 1B - Copy' }));
    const d = only(diagnostics, 'title-id-mismatch');
    expect(d).toMatchObject({ severity: 'warning', line: 1, col: 1 });
    expect(d.message).toBe('the title names milestone 1B but this file is 1A.md');
  });

  it.each(['1B: Setup', '[1B] - Setup', 'milestone 1b'])('also reads the id from the title %j', (title) => {
    expect(only(parse(milestoneText('1A', { title })).diagnostics, 'title-id-mismatch').message).toContain('milestone 1B');
  });

  it.each(['3D printing support', 'Port 2D renderer', 'Stage 1 wrap-up'])('does not take %j for a milestone id', (title) => {
    expect(codes(parse(milestoneText('1A', { title })).diagnostics)).toEqual([]);
  });

  it('does not warn when the title names this milestone', () => {
    expect(codes(parse(milestoneText('2C', { title: 'Milestone 2C - Ok' }), '2C').diagnostics)).toEqual([]);
  });
});

describe('parseMilestone: content checks', () => {
  it('rejects an empty file', () => {
    const d = only(parse('').diagnostics, 'empty-milestone');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md', line: 1, col: 1, message: 'the file is empty' });
    expect(d.hint).toContain('## Tasks');
  });

  it('rejects a whitespace-only file and reports nothing else', () => {
    expect(codes(parse('  \n\r\n\t\n').diagnostics)).toEqual(['empty-milestone']);
  });

  it('rejects a file with only front matter, pointing after it', () => {
    const { diagnostics } = parse('---\nmodel: sonnet\n---\n\n');
    expect(codes(diagnostics)).toEqual(['empty-milestone']);
    expect(diagnostics[0]).toMatchObject({ line: 4, message: 'the file has front matter but no milestone text' });
  });

  it('rejects a title with nothing else', () => {
    const { diagnostics } = parse('\n# Milestone 1A - Setup\n\n<!-- todo -->\n');
    expect(codes(diagnostics)).toEqual(['title-only']);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', line: 2, col: 1 });
    expect(diagnostics[0]?.message).toContain('Milestone 1A - Setup');
  });

  it('rejects a skeleton of headings with no text', () => {
    const { diagnostics } = parse('# T\n## Tasks\n## Exit Criteria\n');
    expect(codes(diagnostics)).toEqual(['no-content']);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', line: 1 });
  });

  it('is an error when nothing says what to do', () => {
    const { diagnostics } = parse('# T\n\n## Exit Criteria\n- done\n\n## Estimated Time\n1h\n');
    const d = only(diagnostics, 'no-tasks');
    expect(d.severity).toBe('error');
    expect(d.hint).toContain('## Tasks');
  });

  it('only warns about missing Tasks when there is a description', () => {
    for (const text of ['# T\n\n## Description\nBuild it.\n\n## Exit Criteria\n- ok\n', '# T\n\nBuild it, free-form.\n\n## Exit Criteria\n- ok\n']) {
      expect(only(parse(text).diagnostics, 'no-tasks').severity).toBe('warning');
    }
  });

  it('warns about missing exit criteria, pointing at a misspelled heading', () => {
    const plain = only(parse('# T\n\n## Tasks\n- a\n\n## Estimate\n1h\n').diagnostics, 'no-exit-criteria');
    expect(plain).toMatchObject({ severity: 'warning', file: 'milestones/1A.md' });
    expect(plain.line).toBeUndefined();
    const typo = only(parse('# T\n\n## Tasks\n- a\n\n## Exit Critera\n- ok\n\n## Estimate\n1h\n').diagnostics, 'no-exit-criteria');
    expect(typo).toMatchObject({ line: 6, col: 1 });
    expect(typo.hint).toContain('"Exit Critera" looks like a misspelling of "Exit Criteria"');
  });

  it('warns when there is no estimate, and when it cannot be read', () => {
    const missing = only(parse('# T\n\n## Tasks\n- a\n\n## Exit Criteria\n- ok\n').diagnostics, 'no-estimate');
    expect(missing.message).toContain('default estimate');
    const { milestone, diagnostics } = parse('# T\n\n## Tasks\n- a\n\n## Exit Criteria\n- ok\n\n## Estimated Time\nTBD, ask Bob\n');
    expect(milestone.estimateMinutes).toBeNull();
    const d = only(diagnostics, 'unreadable-estimate');
    expect(d).toMatchObject({ severity: 'warning', line: 9, col: 1 });
    expect(d.message).toContain('"TBD, ask Bob"');
  });

  it('reads an estimate from the first line when more text follows', () => {
    const { milestone, diagnostics } = parse('# T\n\n## Tasks\n- a\n\n## Exit Criteria\n- ok\n\n## Estimated Time\n- 2-3 hours\n\nMostly tests.\n');
    expect(diagnostics).toEqual([]);
    expect(milestone.estimateMinutes).toBe(180);
  });

  it('reports unclosed front matter and still reads the rest', () => {
    const { milestone, diagnostics } = parse('---\nmodel: x\n# T\n\n## Tasks\n- a\n');
    const d = only(diagnostics, 'unclosed-front-matter');
    expect(d).toMatchObject({ severity: 'error', line: 1, col: 1 });
    expect(milestone.sections.tasks?.text).toBe('- a');
  });

  it('formats a diagnostic the way the CLI prints it', () => {
    const { diagnostics } = parse('---\nmodel: sonnet\nmax_turns: four\n---\n# T\n');
    expect(formatDiagnostic(only(diagnostics, 'invalid-front-matter-value'))).toBe(
      'milestones/1A.md:3:1: error: max_turns: expected a whole number >= 1, got "four"\n  hint: write it like "max_turns: 30"',
    );
  });
});

describe('dependencies under a heading with a remark', () => {
  it('reads "- 1B" under "## Dependencies (optional)" as a dependency', () => {
    const { milestone } = parse('# T\n\n## Tasks\n- a\n\n## Dependencies (optional)\n- 1B\n', '1C');
    expect(milestone.dependencies.map((d) => d.id)).toEqual(['1B']);
  });
});

describe('short titles', () => {
  it.each([
    ['Milestone 1A - Initial Setup', 'Initial Setup'],
    ['milestone 1A: Initial Setup', 'Initial Setup'],
    ['1A — Initial Setup', 'Initial Setup'],
    ['[1A] Initial Setup', '[1A] Initial Setup'],
    ['Initial Setup', 'Initial Setup'],
    ['Milestone 1A -', 'Milestone 1A -'],
    ['Milestone 1B - Other', 'Milestone 1B - Other'],
    ['🚀 Milestone 1A - Initial Setup', '🚀 Initial Setup'],
    ['🚀 1A: Initial Setup', '🚀 Initial Setup'],
  ])('%j in 1A.md is shown as %j', (text, expected) => {
    expect(shortTitle(text, '1A')).toBe(expected);
  });
});
