import { describe, expect, it } from 'vitest';
import { configSchema, defaultConfig } from '../../src/config/schema.js';

describe('defaultConfig', () => {
  it('fills every section with the documented defaults', () => {
    const config = defaultConfig();
    expect(config).toMatchObject({
      milestones_dir: 'milestones',
      max_parallel_tasks: 4,
      claude_rate_limit_wait: 300,
      auto_resume: true,
      retry_attempts: 10,
      on_failure: 'stop',
      logging: { level: 'info', log_dir: null },
      state_dir: '.orchestrator',
      worktrees: { dir: null, branch_prefix: 'milestone/', setup: [], copy_files: [] },
      git: { target_branch: null, require_changes: true },
      agent: {
        kind: 'claude',
        command: null,
        permission_mode: 'acceptEdits',
        disallowed_tools: [],
        model: null,
        max_turns: null,
        append_system_prompt: null,
        prompt_template: null,
        timeout: 3600,
        idle_timeout: 600,
        extra_args: [],
        env: {},
      },
      checks: { commands: [], timeout: 600 },
      review: { enabled: true, max_rounds: 3, model: null, prompt_template: null },
      budget: { max_usd_per_task: null, max_usd_total: null },
      resources: { enabled: true, max_load_per_cpu: 1.5, min_free_memory_mb: 512, min_free_disk_mb: 1024, sample_interval_ms: 2000 },
    });
    expect(config.agent.allowed_tools).toEqual([
      'Bash(git add:*)',
      'Bash(git commit:*)',
      'Bash(git status:*)',
      'Bash(git diff:*)',
      'Bash(git log:*)',
    ]);
  });

  it('hands out fresh lists, so mutating one config cannot leak into the next', () => {
    const first = defaultConfig();
    first.agent.allowed_tools.push('Edit');
    first.worktrees.setup.push('npm ci');
    first.agent.env.X = '1';
    const second = defaultConfig();
    expect(second.agent.allowed_tools).toHaveLength(5);
    expect(second.worktrees.setup).toEqual([]);
    expect(second.agent.env).toEqual({});
  });
});

describe('normalisation', () => {
  const parse = (input: unknown) => configSchema.parse(input);

  it('lower-cases an upper-case log level', () => {
    expect(parse({ logging: { level: 'DEBUG' } }).logging.level).toBe('debug');
  });

  it('keeps a nested section partial: unnamed fields take their defaults', () => {
    const config = parse({ logging: { level: 'warn' } });
    expect(config.logging).toEqual({ level: 'warn', log_dir: null });
  });

  it.each([
    [90, 90],
    ['90', 90],
    ['90s', 90],
    ['45m', 2700],
    ['1.5h', 5400],
    ['1h 30m', 5400],
  ])('reads the duration %j as %d seconds', (input, seconds) => {
    const config = parse({ agent: { timeout: input, idle_timeout: input }, checks: { timeout: input } });
    expect([config.agent.timeout, config.agent.idle_timeout, config.checks.timeout]).toEqual([seconds, seconds, seconds]);
  });

  it('splits a command string on whitespace and keeps a list as given', () => {
    expect(parse({ agent: { command: '  npx   claude ' } }).agent.command).toEqual(['npx', 'claude']);
    expect(parse({ agent: { command: ['/opt/my tools/claude', '--verbose'] } }).agent.command).toEqual([
      '/opt/my tools/claude',
      '--verbose',
    ]);
  });

  it('accepts the $schema key and nothing else unknown', () => {
    expect(configSchema.safeParse({ $schema: './x.json' }).success).toBe(true);
    expect(configSchema.safeParse({ schema: './x.json' }).success).toBe(false);
  });
});
