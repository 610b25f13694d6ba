import { describe, expect, it } from 'vitest';
import { readDependencySection } from '../../src/milestones/dependencies.js';
import { codes, milestoneText, only, parse } from './helpers.js';

const ids = (text: string) => readDependencySection(text).mentions.map((m) => m.id);

describe('readDependencySection', () => {
  it.each([
    ['- 1A', ['1A']],
    ['- 1A\n- 1B', ['1A', '1B']],
    ['1A, 1B and 2C', ['1A', '1B', '2C']],
    ['- Milestone 1B', ['1B']],
    ['- milestone 2c (the API)', ['2C']],
    ['Milestones: 1a', ['1A']],
    ['- [1A](1A.md)', ['1A', '1A']],
    ['Needs `1A` done', ['1A']],
    ['A1B, X1AB, 1AB, 11A, 1A_x', []],
    ['<!-- - 1B -->\n- 1C', ['1C']],
  ])('%j -> %j', (text, expected) => {
    expect(ids(text)).toEqual(expected);
  });

  it('gives offsets of each id', () => {
    expect(readDependencySection('- Milestone 1B and 2C').mentions).toEqual([
      { id: '1B', offset: 12 },
      { id: '2C', offset: 19 },
    ]);
  });

  it.each(['None', '- None', '- None (first milestone)', '**None**', '-', '- N/A', 'n/a', 'Nothing', 'No dependencies.'])('%j says none', (text) => {
    const reading = readDependencySection(`\n${text}\n`);
    expect(reading.saysNone).toBe(true);
    expect(reading.mentions).toEqual([]);
  });

  it.each(['The database work', 'Nonetheless 1x', '- see above'])('%j does not say none', (text) => {
    expect(readDependencySection(text).saysNone).toBe(false);
  });

  it('collects lower-case ids that stand alone, but not after "milestone"', () => {
    const reading = readDependencySection('- 1b\n- milestone 2c');
    expect(reading.lowercaseMentions).toEqual([{ id: '1B', offset: 2 }]);
    expect(reading.mentions.map((m) => m.id)).toEqual(['2C']);
  });
});

describe('dependencies in a milestone', () => {
  it('locates section dependencies by line and column in the file', () => {
    const { milestone, diagnostics } = parse(milestoneText('2A', { deps: '- 1A\n- Milestone 1B: the API' }), '2A');
    expect(diagnostics).toEqual([]);
    expect(milestone.dependencies).toEqual([
      { id: '1A', source: 'section', line: 10, col: 3 },
      { id: '1B', source: 'section', line: 11, col: 13 },
    ]);
  });

  it('merges front matter and section dependencies, first mention wins', () => {
    const text = milestoneText('2A', { frontMatter: 'depends_on:\n  - 1B\n  - 2B', deps: '- 1A\n- 1B\n- 1A' });
    const { milestone } = parse(text, '2A');
    expect(milestone.dependencies).toEqual([
      { id: '1B', source: 'front_matter', line: 3, col: 5 },
      { id: '2B', source: 'front_matter', line: 4, col: 5 },
      { id: '1A', source: 'section', line: 15, col: 3 },
    ]);
    expect(milestone.settings.depends_on).toEqual(['1B', '2B']);
  });

  it('accepts a single id string in front matter', () => {
    const { milestone } = parse(milestoneText('2A', { frontMatter: 'depends_on: 1C' }), '2A');
    expect(milestone.dependencies).toEqual([{ id: '1C', source: 'front_matter', line: 2, col: 13 }]);
  });

  it('reads every Dependencies section, even a duplicate', () => {
    const { milestone, diagnostics } = parse(`${milestoneText('2A', { deps: '- 1A' })}\n## Dependencies\n- 1B\n`, '2A');
    expect(milestone.dependencies.map((d) => d.id)).toEqual(['1A', '1B']);
    expect(only(diagnostics, 'duplicate-section').message).toContain('dependencies are read from both');
  });

  it('warns about a lower-case id', () => {
    const d = only(parse(milestoneText('2A', { deps: '- 1a' }), '2A').diagnostics, 'lowercase-dependency-id');
    expect(d).toMatchObject({ severity: 'warning', file: 'milestones/2A.md', line: 10, col: 3, hint: 'write 1A if you mean milestone 1A' });
    expect(d.message).toContain('"1a"');
  });

  it('warns when a Dependencies section names no milestone', () => {
    const d = only(parse(milestoneText('2A', { deps: 'The login work must be done' }), '2A').diagnostics, 'unreadable-dependencies');
    expect(d).toMatchObject({ severity: 'warning', line: 9, col: 1 });
    expect(d.hint).toContain('None');
  });

  it('does not warn for "None" forms', () => {
    for (const deps of ['- None (first milestone)', '-', 'N/A', '<!-- none yet -->']) {
      expect(codes(parse(milestoneText('1A', { deps })).diagnostics)).toEqual(deps.startsWith('<!--') ? ['empty-section'] : []);
    }
  });
});
