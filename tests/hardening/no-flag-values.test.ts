import { describe, expect, it } from 'vitest';
import { brief, loadFrom } from '../config/helpers.js';
import { milestoneText, parse } from '../milestones/helpers.js';

const json = (body: string) => ({ 'orchestrator.config.json': body });

describe('configuration values that would read as CLI flags are refused with line and column', () => {
  it.each([
    ['agent', '{ "allowed_tools": ["Edit", "--dangerously-skip-permissions"] }', '4:7', 'agent.allowed_tools[1]: expected a tool name: a non-empty string not starting with "-", got "--dangerously-skip-permissions"'],
    ['agent', '{ "disallowed_tools": ["-p"] }', '3:28', 'agent.disallowed_tools[0]: expected a tool name: a non-empty string not starting with "-", got "-p"'],
    ['agent', '{ "model": "--settings=/tmp/x" }', '3:7', 'agent.model: expected a model name (a non-empty string not starting with "-") or null, got "--settings=/tmp/x"'],
    ['review', '{ "model": "-x" }', '3:7', 'review.model: expected a model name (a non-empty string not starting with "-") or null, got "-x"'],
  ])('%s %s', async (section, body, at, message) => {
    const text = body.includes('"Edit"') ? `{\n  "${section}":\n    { "allowed_tools": [\n      "Edit", "--dangerously-skip-permissions"] }\n}\n` : `{\n  "${section}":\n    ${body}\n}\n`;
    const result = await loadFrom(json(text));
    const got = brief(result);
    expect(got).toHaveLength(1);
    expect(got[0]).toContain(message);
    if (!body.includes('"Edit"')) expect(got[0]).toContain(`orchestrator.config.json:${at} `);
  });
});

describe('front matter values that would read as CLI flags are refused with line and column', () => {
  it('allowed_tools: ["--dangerously-skip-permissions"]', () => {
    const { diagnostics } = parse(milestoneText('1A', { frontMatter: 'allowed_tools: ["Read", "--dangerously-skip-permissions"]' }));
    expect(diagnostics.map((d) => [d.line, d.col, d.message])).toEqual([
      [2, 25, 'allowed_tools[1]: a tool name cannot start with "-" (got "--dangerously-skip-permissions"): it would read as a command-line option'],
    ]);
  });

  it('model: --dangerously-skip-permissions', () => {
    const { diagnostics } = parse(milestoneText('1A', { frontMatter: 'model: "--dangerously-skip-permissions"' }));
    expect(diagnostics.map((d) => [d.line, d.col, d.message])).toEqual([
      [2, 1, 'model: expected a non-empty model name (not starting with "-"), got "--dangerously-skip-permissions"'],
    ]);
  });
});

describe('a branch prefix git cannot take is refused with line and column', () => {
  it.each([
    ['-x', '"-x1A" starts with "-" (git would read it as an option)'],
    ['my branch/', '"my branch/1A" contains a space'],
    ['a..b/', '"a..b/1A" contains ".."'],
    ['x~', '"x~1A" contains "~"'],
    ['x.lock/', '"x.lock/1A" has a part ending with ".lock"'],
    ['/m/', '"/m/1A" starts or ends with "/"'],
    ['m//', '"m//1A" contains "//"'],
    ['.m/', '".m/1A" has a part starting with "."'],
  ])('%j', async (prefix, problem) => {
    const result = await loadFrom(json(`{\n  "worktrees": {\n    "branch_prefix": ${JSON.stringify(prefix)}\n  }\n}\n`));
    expect(brief(result)).toEqual([
      `orchestrator.config.json:3:5 error config-invalid: worktrees.branch_prefix: git cannot take branches named with this prefix: ${problem}${problem.includes('part') ? ` (${JSON.stringify(prefix.split('/')[0] || prefix)})` : ''}; use letters, digits, "-", "_", "." and "/" (e.g. "milestone/")`,
    ]);
  });

  it('accepts ordinary prefixes', async () => {
    for (const prefix of ['milestone/', 'mo-', 'team/auto/', 'x.y/']) {
      const result = await loadFrom(json(JSON.stringify({ worktrees: { branch_prefix: prefix } })));
      expect(brief(result)).toEqual([]);
    }
  });
});
