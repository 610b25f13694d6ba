import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { brief, loadFrom, tempDir } from './helpers.js';

const json = (body: string) => ({ 'orchestrator.config.json': body });

describe('invalid values', () => {
  it.each([
    ['"max_parallel_tasks": "four"', 'max_parallel_tasks: expected a whole number >= 1, got "four"'],
    ['"max_parallel_tasks": 0', 'max_parallel_tasks: expected a whole number >= 1, got 0'],
    ['"max_parallel_tasks": 2.5', 'max_parallel_tasks: expected a whole number >= 1, got 2.5'],
    ['"retry_attempts": -1', 'retry_attempts: expected a whole number >= 0, got -1'],
    ['"claude_rate_limit_wait": -5', 'claude_rate_limit_wait: expected a number >= 0, got -5'],
    ['"auto_resume": "yes"', 'auto_resume: expected true or false, got "yes"'],
    ['"on_failure": "halt"', 'on_failure: expected one of "stop", "continue", got "halt"'],
    ['"milestones_dir": ""', 'milestones_dir: expected a non-empty string, got ""'],
  ])('%s', async (entry, message) => {
    const result = await loadFrom(json(`{\n  ${entry}\n}\n`));
    expect(brief(result)).toEqual([`orchestrator.config.json:2:3 error config-invalid: ${message}`]);
  });

  it.each([
    ['logging', '{ "level": "VERBOSE" }', 'logging.level: expected "debug", "info", "warn" or "error" (upper case allowed), got "VERBOSE"'],
    ['agent', '{ "timeout": "45 parsecs" }', 'agent.timeout: expected a duration of at least 1 second: a number of seconds or a string like "90s", "45m", "1.5h", "1h 30m", got "45 parsecs"'],
    // Sub-second values are refused alike, string or number, with the minimum in the message (0.5 was rounded up and
    // taken while "0.2s" was refused as not > 0).
    ['agent', '{ "idle_timeout": "0.2s" }', 'agent.idle_timeout: expected a duration of at least 1 second: a number of seconds or a string like "90s", "45m", "1.5h", "1h 30m", got "0.2s"'],
    ['agent', '{ "idle_timeout": 0.5 }', 'agent.idle_timeout: expected a duration of at least 1 second: a number of seconds or a string like "90s", "45m", "1.5h", "1h 30m", got 0.5'],
    ['agent', '{ "idle_timeout": 0 }', 'agent.idle_timeout: expected a duration of at least 1 second: a number of seconds or a string like "90s", "45m", "1.5h", "1h 30m", got 0'],
    ['agent', '{ "permission_mode": "yolo" }', 'agent.permission_mode: expected one of "acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan", got "yolo"'],
    ['agent', '{ "command": 5 }', 'agent.command: expected a command string, a non-empty list of strings, or null, got 5'],
    ['agent', '{ "command": [] }', 'agent.command: expected a command string, a non-empty list of strings, or null, got []'],
    ['agent', '{ "max_turns": 0 }', 'agent.max_turns: expected a whole number >= 1 or null, got 0'],
    ['agent', '{ "model": 3 }', 'agent.model: expected a model name (a non-empty string not starting with "-") or null, got 3'],
    ['agent', '{ "extra_args": "--verbose" }', 'agent.extra_args: expected a list of strings, got "--verbose"'],
    ['budget', '{ "max_usd_total": 0 }', 'budget.max_usd_total: expected a number > 0 or null, got 0'],
    ['review', '{ "max_rounds": -1 }', 'review.max_rounds: expected a whole number >= 0, got -1'],
    ['resources', '{ "max_load_per_cpu": 0 }', 'resources.max_load_per_cpu: expected a number > 0, got 0'],
    ['worktrees', '{ "branch_prefix": "my branch/" }', 'worktrees.branch_prefix: git cannot take branches named with this prefix: "my branch/1A" contains a space; use letters, digits, "-", "_", "." and "/" (e.g. "milestone/")'],
    ['git', '{ "target_branch": "" }', 'git.target_branch: expected a non-empty string or null, got ""'],
    ['worktrees', '{ "provision": "symlink" }', 'worktrees.provision: expected one of "auto", "reflink", "hardlink", "off", got "symlink"'],
  ])('%s %s', async (section, body, message) => {
    // The nested key is on line 3, column 7.
    const result = await loadFrom(json(`{\n  "${section}":\n    ${body}\n}\n`));
    expect(brief(result)).toEqual([`orchestrator.config.json:3:7 error config-invalid: ${message}`]);
  });

  it('points at the offending map entry', async () => {
    const result = await loadFrom(json('{\n  "agent": {\n    "env": {\n      "TOKEN": 1\n    }\n  }\n}\n'));
    expect(brief(result)).toEqual(['orchestrator.config.json:4:7 error config-invalid: agent.env.TOKEN: expected a string, got 1']);
  });

  it('points at the offending list item', async () => {
    const result = await loadFrom(json('{\n  "worktrees": {\n    "setup": [\n      "npm ci",\n      42\n    ]\n  }\n}\n'));
    expect(brief(result)).toEqual([
      'orchestrator.config.json:5:7 error config-invalid: worktrees.setup[1]: expected a non-empty string, got 42',
    ]);
  });

  it('says so when the file is not an object at all', async () => {
    const result = await loadFrom(json('[1, 2]'));
    expect(brief(result)).toEqual(['orchestrator.config.json:1:1 error config-invalid: expected a mapping (object), got [1,2]']);
  });
});

describe('unknown keys', () => {
  it('suggests the nearest key at the top level', async () => {
    const result = await loadFrom(json('{\n  "max_paralel_tasks": 3\n}'));
    expect(brief(result)).toEqual([
      'orchestrator.config.json:2:3 error config-unknown-key: unknown key "max_paralel_tasks" (did you mean "max_parallel_tasks"?)',
    ]);
  });

  it('suggests among the keys of the nested section, pointing at the key itself', async () => {
    const result = await loadFrom(json('{\n  "logging": { "level": "info", "levl": "debug" },\n  "agent": { "permision_mode": "plan" }\n}'));
    expect(brief(result)).toEqual([
      'orchestrator.config.json:2:33 error config-unknown-key: logging: unknown key "levl" (did you mean "level"?)',
      'orchestrator.config.json:3:14 error config-unknown-key: agent: unknown key "permision_mode" (did you mean "permission_mode"?)',
    ]);
  });

  it('lists the valid keys when nothing is close', async () => {
    const result = await loadFrom(json('{ "budget": { "dollars": 5 } }'));
    expect(brief(result)).toEqual([
      'orchestrator.config.json:1:15 error config-unknown-key: budget: unknown key "dollars" (expected one of: max_usd_per_task, max_usd_total)',
    ]);
  });
});

describe('several problems at once', () => {
  it('reports every one and keeps the valid settings', async () => {
    const result = await loadFrom(
      json('{\n  "max_parallel_tasks": "four",\n  "retry_attempts": 2,\n  "logging": { "level": "LOUD", "log_dir": "out" },\n  "colour": true\n}'),
    );
    expect(brief(result)).toHaveLength(3);
    expect(result.diagnostics.map((d) => [d.line, d.code])).toEqual(
      expect.arrayContaining([
        [2, 'config-invalid'],
        [4, 'config-invalid'],
        [5, 'config-unknown-key'],
      ]),
    );
    // Invalid settings fall back to defaults; valid ones survive.
    expect(result.config.max_parallel_tasks).toBe(4);
    expect(result.config.retry_attempts).toBe(2);
    expect(result.config.logging).toEqual({ level: 'info', log_dir: 'out' });
  });
});

describe('YAML and package.json locations', () => {
  it('gives line and column in YAML', async () => {
    const result = await loadFrom({ '.orchestratorrc.yaml': 'max_parallel_tasks: 2\nagent:\n  timeout: soon\n  modle: x\n' });
    expect(brief(result)).toEqual([
      '.orchestratorrc.yaml:3:3 error config-invalid: agent.timeout: expected a duration of at least 1 second: a number of seconds or a string like "90s", "45m", "1.5h", "1h 30m", got "soon"',
      '.orchestratorrc.yaml:4:3 error config-unknown-key: agent: unknown key "modle" (did you mean "model"?)',
    ]);
  });

  it('names the key under "orchestrator" in package.json', async () => {
    const pkg = '{\n  "name": "x",\n  "orchestrator": {\n    "retry_attempts": "many"\n  }\n}\n';
    const result = await loadFrom({ 'package.json': pkg });
    expect(brief(result)).toEqual([
      'package.json:4:5 error config-invalid: orchestrator.retry_attempts: expected a whole number >= 0, got "many"',
    ]);
  });

  it('has no line for JavaScript configs but still names the file and key', async () => {
    const result = await loadFrom({ 'orchestrator.config.mjs': 'export default { review: { max_rounds: "x" } };\n' }, { env: { ORCHESTRATOR_ALLOW_JS_CONFIG: '1' } });
    expect(brief(result)).toEqual([
      'orchestrator.config.mjs error config-invalid: review.max_rounds: expected a whole number >= 0, got "x"',
    ]);
  });
});

describe('syntax errors', () => {
  it.each([
    ['{\n  "a": 1\n  "b": 2\n}', '3:3', "invalid JSON: expected ',' or '}'"],
    ['{\n  "a": 1,\n}', '3:1', "invalid JSON: trailing comma before '}'"],
    ['{\n  "a": tru\n}', '2:8', 'invalid JSON: unexpected \'t\', expected a value'],
    ['{\n  // note\n  "a": 1\n}', '2:3', 'invalid JSON: comments are not allowed in JSON'],
    // The seed README's own config example, copied as is.
    ['{\n  "max_parallel_tasks": 4,        # Number of parallel tasks\n  "auto_resume": true\n}', '2:35', 'invalid JSON: comments are not allowed in JSON'],
    ["{'a': 1}", '1:2', 'invalid JSON: JSON needs double quotes, not single quotes'],
    ['null', '1:1', 'the configuration is null; expected an object of settings'],
    ['{\n  "a": "unterminated\n}', '2:8', 'invalid JSON: unterminated string'],
    ['{"a": 1', '1:8', "invalid JSON: expected ',' or '}'"],
    ['{"a": 1} x', '1:10', 'invalid JSON: unexpected content after the end of the document'],
  ])('JSON %j', async (body, at, message) => {
    const result = await loadFrom(json(body));
    expect(brief(result)).toEqual([`orchestrator.config.json:${at} error config-syntax: ${message}`]);
    expect(result.source).toBeNull();
    expect(result.config.max_parallel_tasks).toBe(4);
  });

  it('gives every syntax error a hint', async () => {
    const comment = await loadFrom(json('{\n  "a": 1 // note\n}'));
    expect(comment.diagnostics[0]?.hint).toBe('remove the comment, or write the configuration as orchestrator.config.yaml, which allows comments');
    const comma = await loadFrom(json('{"a": 1,}'));
    expect(comma.diagnostics[0]?.hint).toBe('fix the JSON here: keys and strings in double quotes, no trailing commas, no comments');
    const yaml = await loadFrom({ 'orchestrator.config.yaml': 'logging:\n\tlevel: debug\n' });
    expect(yaml.diagnostics[0]?.hint).toContain('indented with spaces (not tabs)');
  });

  it('reports a broken package.json with its position, not a code frame', async () => {
    // cosmiconfig reads package.json in the working directory itself; here the repository is the working directory.
    const root = tempDir({ 'package.json': '{"name": "x",}\n' });
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const result = await loadConfig({ repoRoot: root, env: {} });
      expect(brief(result)).toEqual(["package.json:1:14 error config-syntax: invalid JSON: trailing comma before '}'"]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports every YAML syntax error with its place', async () => {
    const result = await loadFrom({ '.orchestratorrc.yml': 'retry_attempts: 1\nstate_dir: @x\nlogging:\n  level: info\n  level: debug\n' });
    expect(brief(result)).toEqual([
      '.orchestratorrc.yml:2:12 error config-syntax: invalid YAML: Plain value cannot start with reserved character @',
      '.orchestratorrc.yml:5:3 error config-syntax: invalid YAML: Map keys must be unique',
    ]);
  });

  it('warns about a duplicate JSON key and uses the last value, like JSON.parse', async () => {
    const result = await loadFrom(json('{\n  "retry_attempts": 1,\n  "retry_attempts": 2\n}'));
    expect(brief(result)).toEqual([
      'orchestrator.config.json:3:3 warning config-duplicate-key: duplicate key "retry_attempts"; the last one is used',
    ]);
    expect(result.config.retry_attempts).toBe(2);
  });
});

describe('milestonesDirTrusted: can the milestones still be checked despite config errors?', () => {
  it.each([
    ['no config at all', {}, {}, true],
    ['an unrelated bad value', json('{"max_parallel_tasks": 0, "milestones_dir": "plans"}'), {}, true],
    ['a bad environment variable', json('{"milestones_dir": "plans"}'), { LOG_LEVEL: 'loud' }, true],
    ['an invalid milestones_dir', json('{"milestones_dir": ""}'), {}, false],
    ['a JSON syntax error', json('{"milestones_dir": "plans",}'), {}, false],
    ['a root that is not an object', json('[1]'), {}, false],
  ] as const)('%s -> %s', async (_name, files, env, trusted) => {
    const result = await loadFrom({ ...files }, { env: { ...env } });
    expect(result.milestonesDirTrusted).toBe(trusted);
  });

  it('is false for a --config file that does not exist', async () => {
    const result = await loadFrom({}, { explicitPath: 'missing.json' });
    expect(result.milestonesDirTrusted).toBe(false);
  });

  it('keeps the valid milestones_dir next to an invalid setting', async () => {
    const result = await loadFrom(json('{"max_parallel_tasks": 0, "milestones_dir": "plans"}'));
    expect(result.config.milestones_dir).toBe('plans');
  });
});
