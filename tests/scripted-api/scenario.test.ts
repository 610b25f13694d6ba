import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, ScenarioError } from '../../src/scripted-api/scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'scripted-scenario-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('expected a ScenarioError');
}

describe('parseScenario shorthands', () => {
  it('expands text, tool_use, verdict, structured_output and faults', () => {
    const s = parseScenario({
      rules: [
        { reply: 'plain' },
        { reply: { text: 'a', tool_use: { name: 'Write', input: { file_path: '{{cwd}}/x' } } } },
        { reply: { verdict: 'approve' } },
        { reply: { structured_output: { ok: true } } },
        { reply: { fault: 529 } },
        { reply: { fault: 'stall' } },
        { reply: { fault: { status: 429, retry_after: 2, ratelimit_headers: true } } },
        { reply: { fault: { kind: 'usage_limit', resets_at: 1795445750 } } },
      ],
    });
    expect(s.rules.map((r) => r.reply)).toEqual([
      { kind: 'message', text: 'plain', toolUses: [], usage: {} },
      { kind: 'message', text: 'a', toolUses: [{ name: 'Write', input: { file_path: '{{cwd}}/x' } }], usage: {} },
      { kind: 'message', toolUses: [], usage: {}, structuredOutput: { verdict: 'approve', summary: '', findings: [] } },
      { kind: 'message', toolUses: [], usage: {}, structuredOutput: { ok: true } },
      { kind: 'fault', fault: { kind: 'http', status: 529, ratelimitHeaders: false } },
      { kind: 'fault', fault: { kind: 'stall' } },
      { kind: 'fault', fault: { kind: 'http', status: 429, retryAfter: 2, ratelimitHeaders: true } },
      { kind: 'fault', fault: { kind: 'usage_limit', resetsAt: 1795445750, limitType: 'five_hour' } },
    ]);
  });

  it('normalises match keys and defaults', () => {
    const s = parseScenario([{ match: { last_user: 'x', system: { regex: '^a', flags: 'i' }, turn: 1, tool_offered: 'Bash' }, times: 2, reply: 'y' }]);
    const rule = s.rules[0]!;
    expect(rule.times).toBe(2);
    expect(rule.match).toMatchObject({ lastUser: { substring: 'x' }, turn: 1, toolOffered: 'Bash', side: false });
    expect(rule.match.system).toEqual({ regex: /^a/i });
    expect(s.defaultReply.text).toBe('done');
    expect(s.usage).toEqual({ input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(parseScenario({ rules: [{ reply: 'z' }] }).rules[0]!.match).toEqual({ side: false });
  });

  it('rejects contradictory replies with the reason', () => {
    const err = problemsOf(() =>
      parseScenario({
        rules: [
          { reply: { fault: 429, text: 'x' } },
          { reply: { verdict: 'approve', structured_output: {} } },
          { reply: { summary: 'no verdict' } },
          { reply: {} },
          { reply: { fault: { kind: 'stall', retry_after: 3 } } },
          { reply: { fault: { retry_after: 3 } } },
          { reply: { fault: { status: 429, resets_at: 1 } } },
        ],
      }),
    );
    expect(err.problems.map((p) => [p.where, p.message])).toEqual([
      ['rules[0].reply', 'a fault reply takes no other keys (got text, fault)'],
      ['rules[1].reply', 'give either verdict or structured_output, not both'],
      ['rules[2].reply', 'summary and findings belong to a verdict'],
      ['rules[3].reply', 'a reply needs text, tool_use, structured_output, verdict or fault'],
      ['rules[4].reply.fault', 'retry_after do not apply to stall faults'],
      ['rules[5].reply.fault', 'a fault needs a status (e.g. 429) or a kind: stall, hang or usage_limit'],
      ['rules[6].reply.fault', 'resets_at do not apply to http faults'],
    ]);
  });

  it('rejects a fault as the default reply and a bad regex', () => {
    const err = problemsOf(() => parseScenario({ rules: [{ match: { last_user: { regex: '(' } }, reply: 'x' }], default_reply: { fault: 500 } }));
    expect(err.problems.map((p) => p.where)).toEqual(['rules[0].match.last_user.regex', 'default_reply']);
    expect(err.problems[0]!.message).toMatch(/invalid regular expression/);
    expect(err.message).toContain('<scenario object>');
  });
});

describe('loadScenario', () => {
  it('reads YAML and JSON files', () => {
    const yamlPath = file('ok.yaml', 'rules:\n  - match: { turn: 0 }\n    reply: hi\n');
    const jsonPath = file('ok.json', JSON.stringify({ rules: [{ reply: { verdict: 'request_changes', summary: 's' } }] }));
    expect(loadScenario(yamlPath).rules[0]!.reply).toMatchObject({ text: 'hi' });
    expect(loadScenario(jsonPath).rules[0]!.reply).toMatchObject({ structuredOutput: { verdict: 'request_changes', summary: 's' } });
  });

  it('names file, line and column of a schema problem, with a did-you-mean for typos', () => {
    const path = file('typo.yaml', ['rules:', '  - reply: fine', '  - match:', '      last_usr: hello', '    reply: x', ''].join('\n'));
    const err = problemsOf(() => loadScenario(path));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ where: 'rules[1].match', line: 4, col: 17 });
    expect(err.problems[0]!.message).toContain('did you mean "last_user"?');
    expect(err.message).toContain(`${path}:4:17: rules[1].match: unknown key "last_usr"`);
  });

  it('points at the value of a bad field in a bare list of rules', () => {
    const path = file('bad-fault.yaml', ['- reply: ok', '- reply:', '    fault: { status: 200 }', ''].join('\n'));
    const err = problemsOf(() => loadScenario(path));
    expect(err.problems[0]).toMatchObject({ where: 'rules[1].reply.fault.status', line: 3, col: 22 });
  });

  it('reports a problem inside a single tool_use at its own path', () => {
    const path = file('tool.yaml', ['- reply:', '    tool_use: { name: Write }', ''].join('\n'));
    expect(problemsOf(() => loadScenario(path)).problems[0]).toMatchObject({ where: 'rules[0].reply.tool_use[0].input', line: 2 });
  });

  it('reports YAML syntax errors and unreadable files with the file name', () => {
    const path = file('syntax.yaml', 'rules:\n  - reply: "unterminated\n');
    const err = problemsOf(() => loadScenario(path));
    expect(err.problems[0]!.line).toBeGreaterThanOrEqual(2);
    expect(err.message).toContain(path);
    const missing = problemsOf(() => loadScenario(join(dir, 'nope.yaml')));
    expect(missing.message).toMatch(/nope\.yaml.*cannot read the file/s);
  });
});
