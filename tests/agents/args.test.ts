import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/agents/claude/args.js';
import type { AgentRunRequest } from '../../src/agents/types.js';

const base: AgentRunRequest = { cwd: '/w', prompt: 'Implement 1A', transcriptPath: '/t.jsonl' };

describe('buildClaudeArgs', () => {
  it('asks for stream-json with --verbose and puts the prompt last, after --', () => {
    expect(buildClaudeArgs(base)).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--', 'Implement 1A']);
  });

  it('keeps a prompt that looks like an option as one argument after --', () => {
    const args = buildClaudeArgs({ ...base, prompt: '- item one\n--force' });
    expect(args.slice(-2)).toEqual(['--', '- item one\n--force']);
  });

  it('maps every request field to its flag, tool lists as separate values, extraArgs before the prompt', () => {
    const args = buildClaudeArgs({
      ...base,
      resumeSessionId: 'c0a38360-8a12-4baf-8c5f-2d69065414d9',
      model: 'sonnet',
      permissionMode: 'acceptEdits',
      allowedTools: ['Edit', 'Bash(git *)'],
      disallowedTools: ['WebFetch'],
      maxTurns: 30,
      maxBudgetUsd: 2.5,
      appendSystemPrompt: 'Commit when done.',
      jsonSchema: { type: 'object', required: ['verdict'] },
      extraArgs: ['--add-dir', '/shared'],
    });
    expect(args).toEqual([
      '-p', '--output-format', 'stream-json', '--verbose',
      '--resume', 'c0a38360-8a12-4baf-8c5f-2d69065414d9',
      '--model', 'sonnet',
      '--permission-mode', 'acceptEdits',
      '--allowedTools', 'Edit', 'Bash(git *)',
      '--disallowedTools', 'WebFetch',
      '--max-turns', '30',
      '--max-budget-usd', '2.5',
      '--append-system-prompt', 'Commit when done.',
      '--json-schema', '{"type":"object","required":["verdict"]}',
      '--add-dir', '/shared',
      '--', 'Implement 1A',
    ]);
  });

  it('omits empty tool lists', () => {
    expect(buildClaudeArgs({ ...base, allowedTools: [], disallowedTools: [] })).not.toContain('--allowedTools');
  });

  it('rejects limits the CLI would refuse', () => {
    expect(() => buildClaudeArgs({ ...base, maxTurns: 0 })).toThrow(/maxTurns/);
    expect(() => buildClaudeArgs({ ...base, maxTurns: 2.5 })).toThrow(/maxTurns/);
    expect(() => buildClaudeArgs({ ...base, maxBudgetUsd: -1 })).toThrow(/maxBudgetUsd/);
  });
});

describe('buildClaudeEnv', () => {
  it('sets IS_SANDBOX=1 for bypassPermissions as root', () => {
    expect(buildClaudeEnv({ ...base, permissionMode: 'bypassPermissions' }, true)).toEqual({ IS_SANDBOX: '1' });
  });

  it('sets it for --dangerously-skip-permissions in extraArgs as well', () => {
    expect(buildClaudeEnv({ ...base, extraArgs: ['--dangerously-skip-permissions'] }, true).IS_SANDBOX).toBe('1');
  });

  it('leaves it out when not root, or not bypassing, and never overrides an explicit value', () => {
    expect(buildClaudeEnv({ ...base, permissionMode: 'bypassPermissions' }, false)).toEqual({});
    expect(buildClaudeEnv({ ...base, permissionMode: 'acceptEdits' }, true)).toEqual({});
    expect(buildClaudeEnv({ ...base, permissionMode: 'bypassPermissions', env: { IS_SANDBOX: '0' } }, true)).toEqual({ IS_SANDBOX: '0' });
  });

  it('passes the request env through', () => {
    expect(buildClaudeEnv({ ...base, env: { FOO: 'bar' } }, false)).toEqual({ FOO: 'bar' });
  });
});
