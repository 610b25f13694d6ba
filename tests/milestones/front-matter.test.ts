import { describe, expect, it } from 'vitest';
import { TASK_SETTING_KEYS } from '../../src/milestones/front-matter.js';
import { codes, milestoneText, only, parse } from './helpers.js';

/** Parses a valid milestone whose front matter is `yaml` (file line 2 is the YAML's first line). */
function withFrontMatter(yaml: string) {
  return parse(milestoneText('1A', { frontMatter: yaml }));
}

describe('front matter settings', () => {
  it('lists every setting key', () => {
    expect([...TASK_SETTING_KEYS].sort()).toEqual(
      ['allowed_tools', 'checks', 'depends_on', 'max_budget_usd', 'max_turns', 'model', 'review', 'setup', 'timeout'].sort(),
    );
  });

  it('reads and normalises all keys', () => {
    const yaml = [
      'depends_on: [1B]',
      'timeout: 45m',
      'model: opus',
      'max_turns: 40',
      'max_budget_usd: 2.5',
      'allowed_tools: "Read, Edit, Bash(git diff, git log)"',
      'setup: npm ci',
      'checks:',
      '  - npm test',
      '  - npm run lint',
      'review: false',
    ].join('\n');
    const { milestone, diagnostics } = parse(milestoneText('2A', { frontMatter: yaml }), '2A');
    expect(diagnostics).toEqual([]);
    expect(milestone.settings).toEqual({
      depends_on: ['1B'],
      timeout: 2700,
      model: 'opus',
      max_turns: 40,
      max_budget_usd: 2.5,
      allowed_tools: ['Read', 'Edit', 'Bash(git diff, git log)'],
      setup: ['npm ci'],
      checks: ['npm test', 'npm run lint'],
      review: false,
    });
    expect(milestone.dependencies).toEqual([{ id: '1B', source: 'front_matter', line: 2, col: 14 }]);
  });

  it('takes a number of seconds for timeout, and lists as lists', () => {
    const { milestone } = withFrontMatter('timeout: 90\nallowed_tools: [Read, Grep]\nsetup: [a, b]\ndepends_on: []');
    expect(milestone.settings).toEqual({ timeout: 90, allowed_tools: ['Read', 'Grep'], setup: ['a', 'b'], depends_on: [] });
  });

  it('accepts empty front matter', () => {
    const { milestone, diagnostics } = parse(`---\n---\n${milestoneText('1A')}`);
    expect(diagnostics).toEqual([]);
    expect(milestone.settings).toEqual({});
    expect(milestone.titleLine).toBe(3);
  });
});

describe('front matter errors', () => {
  it('reports invalid YAML at its line in the file', () => {
    const { diagnostics } = withFrontMatter('model: sonnet\nchecks: [npm test\nreview: true');
    const d = diagnostics.find((x) => x.code === 'invalid-yaml');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md', line: 4, col: 1 });
    expect(d?.message).toMatch(/^invalid YAML in front matter: /);
    expect(d?.hint).toContain('key: value');
  });

  it('reports a duplicate key as invalid YAML on the second occurrence', () => {
    const d = only(withFrontMatter('model: a\nreview: true\nmodel: b').diagnostics, 'invalid-yaml');
    expect(d).toMatchObject({ line: 4, col: 1 });
    expect(d.message).toContain('unique');
  });

  it('reports tabs used for indentation', () => {
    const d = withFrontMatter('checks:\n\t- npm test').diagnostics.find((x) => x.code === 'invalid-yaml');
    expect(d?.line).toBe(3);
  });

  it.each([
    ['- model: sonnet\n- review: true', 'a list'],
    ['just some text', 'a single value'],
  ])('rejects front matter that is not a mapping: %j', (yaml, what) => {
    const d = only(withFrontMatter(yaml).diagnostics, 'front-matter-not-mapping');
    expect(d).toMatchObject({ severity: 'error', line: 2, col: 1 });
    expect(d.message).toBe(`front matter must be a mapping of settings, but it is ${what}`);
  });

  it.each([
    ['max-turns', 'did you mean "max_turns"?'],
    ['Model', 'did you mean "model"?'],
    ['dependencies', 'did you mean "depends_on"?'],
    ['alowed_tools', 'did you mean "allowed_tools"?'],
    ['title', 'the title is the "# ..." heading'],
    ['colour', 'known keys: depends_on, timeout'],
  ])('reports unknown key %j at its position with a hint', (key, hint) => {
    const d = only(withFrontMatter(`model: sonnet\n  \n${key}: x`).diagnostics, 'unknown-front-matter-key');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md', line: 4, col: 1, message: `unknown front matter key "${key}"` });
    expect(d.hint).toContain(hint);
  });

  it.each([
    ['max_turns: four', 'max_turns: expected a whole number >= 1, got "four"'],
    ['max_turns: 0', 'max_turns: expected a whole number >= 1, got 0'],
    ['max_turns: 2.5', 'max_turns: expected a whole number >= 1, got 2.5'],
    ['max_turns: 0.5', 'max_turns: expected a whole number >= 1, got 0.5'],
    ['max_budget_usd: "$5"', 'max_budget_usd: expected a number of US dollars > 0, got "$5"'],
    ['max_budget_usd: -1', 'max_budget_usd: expected a number of US dollars > 0, got -1'],
    ['model: ""', 'model: expected a non-empty model name (not starting with "-"), got ""'],
    ['model:', 'model: expected a non-empty model name (not starting with "-"), got nothing'],
    ['model: 4', 'model: expected a non-empty model name (not starting with "-"), got 4'],
    ['review: yes', 'review: expected true or false, got "yes"'],
    ['timeout: soon', 'timeout: expected a number of seconds (at least 1) or a duration like "45m", got "soon"'],
    ['timeout: 0.5s', 'timeout: expected a number of seconds (at least 1) or a duration like "45m", got "0.5s"'],
    ['timeout: 0', 'timeout: expected a number of seconds (at least 1) or a duration like "45m", got 0'],
    ['timeout: -30', 'timeout: expected a number of seconds (at least 1) or a duration like "45m", got -30'],
    ['setup: {run: x}', 'setup: expected a shell command or a list of shell commands, got {"run":"x"}'],
    ['checks: ""', 'checks: expected a shell command or a list of shell commands, got ""'],
    ['allowed_tools: 3', 'allowed_tools: expected a list of tool names (none starting with "-"), or one comma-separated string, got 3'],
    ['depends_on: {a: 1}', 'depends_on: expected a milestone id like 1A, or a list of them, got {"a":1}'],
  ])('rejects %j at the key', (line, message) => {
    const { milestone, diagnostics } = withFrontMatter(`# settings\n${line}`);
    const d = only(diagnostics, 'invalid-front-matter-value');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md', line: 3, col: 1, message });
    expect(d.hint).toMatch(/^write it like "/);
    expect(milestone.settings).toEqual({});
  });

  it('points at the bad item of a list', () => {
    const { diagnostics } = withFrontMatter('allowed_tools:\n  - Read\n  - ""\nchecks: [npm test, 3]');
    const items = diagnostics.filter((d) => d.code === 'invalid-front-matter-value');
    expect(items).toEqual([
      expect.objectContaining({ line: 4, col: 5, message: 'allowed_tools[1]: expected a non-empty string, got ""' }),
      expect.objectContaining({ line: 5, col: 20, message: 'checks[1]: expected a string, got 3' }),
    ]);
  });

  it('reports invalid dependency ids at the item, with a suggestion', () => {
    const { milestone, diagnostics } = withFrontMatter('depends_on: [1B, 1c, "Milestone 1D", 10A]');
    expect(codes(diagnostics)).toEqual(['invalid-dependency-id', 'invalid-dependency-id', 'invalid-dependency-id']);
    expect(diagnostics[0]).toMatchObject({ line: 2, col: 18, hint: 'write 1C' });
    expect(diagnostics[0]?.message).toBe('depends_on: "1c" is not a milestone id (a stage digit 1-9 and a capital letter, like 1A)');
    expect(diagnostics[1]).toMatchObject({ line: 2, col: 22, hint: 'write 1D' });
    expect(diagnostics[2]).toMatchObject({ line: 2, col: 38, hint: 'use the id of a milestone file, e.g. 1A for 1A.md' });
    expect(milestone.settings.depends_on).toBeUndefined();
  });

  it('reports a single invalid dependency id at its value', () => {
    const d = only(withFrontMatter('depends_on: 1b').diagnostics, 'invalid-dependency-id');
    expect(d).toMatchObject({ line: 2, col: 13, hint: 'write 1B' });
  });

  it('reports every problem, not only the first', () => {
    const { diagnostics } = withFrontMatter('max_turns: x\nfoo: 1\nreview: maybe\nbar: 2');
    expect(codes(diagnostics)).toEqual([
      'invalid-front-matter-value',
      'unknown-front-matter-key',
      'invalid-front-matter-value',
      'unknown-front-matter-key',
    ]);
    expect(diagnostics.map((d) => d.line)).toEqual([2, 3, 4, 5]);
  });
});

describe('front matter: odd but real mistakes (QA of --validate-only)', () => {
  it('reads "1A, 1B" in one string as two dependencies, each located where it is written', () => {
    const { milestone, diagnostics } = withFrontMatter('depends_on: 1B, 1C');
    expect(diagnostics).toEqual([]);
    expect(milestone.settings.depends_on).toEqual(['1B', '1C']);
    expect(milestone.dependencies).toEqual([
      { id: '1B', source: 'front_matter', line: 2, col: 13 },
      { id: '1C', source: 'front_matter', line: 2, col: 17 },
    ]);
  });

  it('points at the bad id inside a comma-separated string', () => {
    const d = only(withFrontMatter('depends_on: 1B, 1c').diagnostics, 'invalid-dependency-id');
    expect(d).toMatchObject({ line: 2, col: 17, hint: 'write 1C' });
    expect(d.message).toBe('depends_on: "1c" is not a milestone id (a stage digit 1-9 and a capital letter, like 1A)');
  });

  it.each([
    ['timeout: 30d', '"30d"'],
    ['timeout: 4w', '"4w"'],
    ['timeout: 1e12', '1000000000000'],
  ])('rejects %j: a timer that long would fire at once and end the agent immediately', (line, got) => {
    const d = only(withFrontMatter(line).diagnostics, 'invalid-front-matter-value');
    expect(d.message).toBe(`timeout: expected at most 2147483 seconds (about 24 days), got ${got}`);
  });

  it('accepts the longest timeout a timer can hold', () => {
    expect(withFrontMatter('timeout: 24d').milestone.settings.timeout).toBe(24 * 24 * 3600);
  });

  it('shows .inf as .inf, not as null', () => {
    const d = only(withFrontMatter('timeout: .inf').diagnostics, 'invalid-front-matter-value');
    expect(d.message).toMatch(/got Infinity$/);
  });

  it.each([
    ['checks:\n  - npm test\n   - npm run lint', 4, 4, '"npm test - npm run lint"'],
    ['setup: npm ci\n  - npm run build', 3, 3, '"npm ci - npm run build"'],
  ])('rejects a list item indented so far that YAML glues it to the one above: %j', (yaml, line, col, joined) => {
    const { milestone, diagnostics } = withFrontMatter(yaml);
    const d = only(diagnostics, 'front-matter-list-indent');
    expect(d).toMatchObject({ severity: 'error', line, col });
    expect(d.message).toContain(`into one value ${joined}`);
    expect(d.hint).toBe('put the "-" of every list item in the same column');
    expect(milestone.settings).toEqual({});
  });

  it('still accepts a command folded over lines without a list dash', () => {
    const { milestone, diagnostics } = withFrontMatter('setup: npm ci\n  --no-audit');
    expect(diagnostics).toEqual([]);
    expect(milestone.settings.setup).toEqual(['npm ci --no-audit']);
  });

  it.each(['__proto__', 'constructor', 'toString'])('gives a sane hint for the key %j (no Object.prototype members)', (key) => {
    const d = only(withFrontMatter(`${key}: x`).diagnostics, 'unknown-front-matter-key');
    expect(d.hint).toMatch(/^known keys: depends_on/);
  });

  it('reports a YAML alias bomb as a YAML problem at its key, not as a bug in the orchestrator', () => {
    const yaml = [
      'a: &a [x,x,x,x,x,x,x,x,x]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'checks: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    ].join('\n');
    const d = withFrontMatter(yaml).diagnostics.find((x) => x.code === 'invalid-yaml');
    expect(d).toMatchObject({ severity: 'error', line: 5, col: 1 });
    expect(d?.message).toMatch(/^invalid YAML in front matter: checks: .*alias/);
  });

  it('says where the front matter runs when a leading horizontal rule swallowed the title', () => {
    const text = '---\n# Milestone 1A - X\n\n## Tasks\n1. a\n---\n## Exit Criteria\n- b\n';
    const d = only(parse(text).diagnostics, 'front-matter-not-mapping');
    expect(d.hint).toBe(
      'everything from the "---" on line 1 to the "---" on line 6 is front matter; write settings as "key: value" lines, for example "model: sonnet"; if line 1 is meant as a horizontal rule, remove it',
    );
  });

  it('rejects front matter after blank lines instead of silently reading its settings as markdown', () => {
    const { diagnostics } = parse(`\n\n---\nmodel: opus\ndepends_on: 1B\n---\n${milestoneText('1A')}`);
    const d = only(diagnostics, 'front-matter-not-at-start');
    expect(d).toMatchObject({ severity: 'error', line: 3, col: 1, hint: 'remove the blank lines before line 3' });
    expect(d.message).toBe('front matter must start on line 1, but the "---" on line 3 comes after blank lines, so its settings would be read as milestone text and ignored');
  });

  it('leaves horizontal rules after a blank line alone when no settings are between them', () => {
    expect(codes(parse(`\n---\n${milestoneText('1A')}\n---\nmore text\n`).diagnostics)).toEqual([]);
    expect(codes(parse(`\n---\nNote: this one is big.\n---\n${milestoneText('1A')}`).diagnostics)).toEqual([]);
  });

  it('rejects TOML front matter, which would otherwise be read as milestone text', () => {
    const d = only(parse(`+++\nmodel = "opus"\n+++\n${milestoneText('1A')}`).diagnostics, 'unsupported-front-matter');
    expect(d).toMatchObject({ severity: 'error', line: 1, col: 1 });
    expect(d.hint).toContain('YAML between two "---" lines');
  });
});

describe('front matter split by gray-matter', () => {
  it('keeps exact line boundaries: a closing fence with trailing blanks, a block of only comments', () => {
    const trailing = parse(`---\nmodel: opus\n---   \n${milestoneText('1A')}`);
    expect(trailing.diagnostics).toEqual([]);
    expect(trailing.milestone.settings).toEqual({ model: 'opus' });
    expect(trailing.milestone.titleLine).toBe(4);
    const comments = parse(`---\n# nothing set yet\n\n---\n${milestoneText('1A')}`);
    expect(comments.diagnostics).toEqual([]);
    expect(comments.milestone.settings).toEqual({});
    expect(comments.milestone.titleLine).toBe(5);
  });

  it('reports bad YAML at its file line and column, never throwing, also after a blank opening-line remainder', () => {
    const d = only(parse(`---  \nmodel: opus\ncheck: [a\n---\n${milestoneText('1A')}`).diagnostics, 'invalid-yaml');
    expect(d.line).toBeGreaterThanOrEqual(3);
    expect(d.col).toBeGreaterThanOrEqual(1);
  });

  it('reports a closing line with more than "---" on it, which gray-matter would otherwise take silently', () => {
    const d = only(parse(`---\nmodel: opus\n---x\n${milestoneText('1A')}`).diagnostics, 'front-matter-closing-fence');
    expect(d).toMatchObject({ severity: 'error', line: 3, col: 1 });
    expect(d.hint).toContain('on a line of its own');
  });

  it('says to close with "---" when the block ends with YAML\'s "..." (gray-matter does not take it as a fence)', () => {
    const d = only(parse(`---\nmodel: opus\n...\n${milestoneText('1A')}`).diagnostics, 'unclosed-front-matter');
    expect(d).toMatchObject({ line: 1, col: 1, hint: 'close it with "---" instead of the "..." on line 3' });
  });
});
