import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/agents/claude/args.js';
import type { AgentRunRequest } from '../../src/agents/types.js';

const base: AgentRunRequest = { cwd: '/w', prompt: 'Implement 1A', transcriptPath: '/t.jsonl' };

describe('buildClaudeArgs', () => {
  it('asks for stream-json with --verbose and keeps the prompt off the command line (it goes on stdin)', () => {
    expect(buildClaudeArgs(base)).toEqual(['-p', '--output-format=stream-json', '--verbose']);
    expect(buildClaudeArgs({ ...base, prompt: 'x'.repeat(400_000) }).join(' ')).not.toContain('xxx');
  });

  it('maps every request field to its flag as --flag=value, one --allowedTools=<tool> per tool, extraArgs last', () => {
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
      '-p', '--output-format=stream-json', '--verbose',
      '--resume=c0a38360-8a12-4baf-8c5f-2d69065414d9',
      '--model=sonnet',
      '--permission-mode=acceptEdits',
      '--allowedTools=Edit', '--allowedTools=Bash(git *)',
      '--disallowedTools=WebFetch',
      '--max-turns=30',
      '--max-budget-usd=2.5',
      '--append-system-prompt=Commit when done.',
      '--json-schema={"type":"object","required":["verdict"]}',
      '--add-dir', '/shared',
    ]);
  });

  it('never lets a value become an argument of its own, whatever it contains', () => {
    const hostile = ['--dangerously-skip-permissions', '-p', '--', 'a b', 'x=--y', '\n--settings=/tmp/x', ''];
    for (const value of hostile) {
      const args = buildClaudeArgs({
        ...base,
        model: value || 'm',
        allowedTools: [value],
        disallowedTools: [value],
        appendSystemPrompt: value || 's',
        resumeSessionId: value || 'r',
        prompt: value,
      });
      // Exactly the fixed flags plus one --flag=value element per setting: nothing a value could split off.
      expect(args.slice(3).every((a) => /^--(resume|model|allowedTools|disallowedTools|append-system-prompt)=/.test(a)), JSON.stringify(args)).toBe(true);
      expect(args).toHaveLength(3 + 5);
    }
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
