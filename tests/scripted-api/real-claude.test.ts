import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeTestEnv } from '../../src/scripted-api/claude-env.js';
import type { ScenarioInput } from '../../src/scripted-api/scenario.js';
import { startScriptedServer, type ScriptedServer } from '../../src/scripted-api/server.js';
import { claudeSandbox, runClaude } from './run-claude.js';

/**
 * End-to-end: the real `claude` binary against the scripted server. Each run costs about 2 CPU-seconds, so there
 * are few of them and they run one after another (tests in a file are sequential).
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(scenario: ScenarioInput, envOptions: { oauth?: boolean; autoMode?: boolean } = {}) {
  const sandbox = claudeSandbox();
  cleanups.push(sandbox.cleanup);
  const server: ScriptedServer = await startScriptedServer({ scenario });
  cleanups.push(() => server.close());
  const env = claudeTestEnv({ serverUrl: server.url, home: sandbox.home, ...envOptions });
  return { server, cwd: sandbox.cwd, run: (prompt: string, args: string[] = []) => runClaude(prompt, args, { cwd: sandbox.cwd, env }) };
}

describe('real claude CLI against the scripted server', () => {
  it('runs a scripted Write tool call, then finishes with text', async () => {
    const { server, cwd, run } = await setup([
      { name: 'write', match: { last_user: 'create hello.txt', turn: 0 }, reply: { text: 'Writing.', tool_use: { name: 'Write', input: { file_path: '{{cwd}}/hello.txt', content: 'hello\n' } } } },
      { name: 'done', match: { turn: 1, last_user: 'File created' }, reply: 'Created hello.txt' },
    ]);
    const { code, result } = await run('please create hello.txt', ['--permission-mode', 'acceptEdits']);
    expect(readFileSync(join(cwd, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(result).toMatchObject({ is_error: false, result: 'Created hello.txt', num_turns: 2, permission_denials: [] });
    expect(code).toBe(0);
    const main = server.requests.filter((r) => r.path.startsWith('/v1/messages'));
    expect(main.map((r) => [r.outcome, r.rule?.name])).toEqual([
      ['rule', 'write'],
      ['rule', 'done'],
    ]);
  });

  it('answers --json-schema with structured output', async () => {
    const { server, run } = await setup([
      { match: { tool_offered: 'StructuredOutput' }, reply: { verdict: 'request_changes', summary: 'needs tests', findings: [{ file: 'a.ts', message: 'untested' }] } },
    ]);
    const schema = {
      type: 'object',
      properties: { verdict: { enum: ['approve', 'request_changes'] }, summary: { type: 'string' }, findings: { type: 'array' } },
      required: ['verdict', 'summary', 'findings'],
    };
    const { code, result } = await run('review the change', ['--json-schema', JSON.stringify(schema)]);
    expect(result).toMatchObject({
      is_error: false,
      structured_output: { verdict: 'request_changes', summary: 'needs tests', findings: [{ file: 'a.ts', message: 'untested' }] },
    });
    expect(code).toBe(0);
    expect(server.requests.filter((r) => r.outcome === 'unmatched')).toEqual([]);
  });

  it('retries a one-off 429 and succeeds', async () => {
    const { server, run } = await setup([
      { name: 'limited', times: 1, reply: { fault: 429 } },
      { name: 'ok', reply: 'second time lucky' },
    ]);
    const { code, events, result } = await run('hi');
    expect(events.filter((e) => e.subtype === 'api_retry')).toEqual([expect.objectContaining({ attempt: 1, error_status: 429 })]);
    expect(result).toMatchObject({ is_error: false, result: 'second time lucky' });
    expect(code).toBe(0);
    expect(server.requests.map((r) => [r.rule?.name, r.status])).toEqual([
      ['limited', 429],
      ['ok', 200],
    ]);
  });

  it('reports a subscription usage limit as a rate_limit_event with resetsAt, without retrying', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 7200;
    const { server, run } = await setup([{ reply: { fault: { kind: 'usage_limit', resets_at: resetsAt } } }], { oauth: true });
    const { code, events, result } = await run('hi');
    expect(events.find((e) => e.type === 'rate_limit_event')).toMatchObject({
      rate_limit_info: { status: 'rejected', resetsAt, rateLimitType: 'five_hour' },
    });
    expect(result).toMatchObject({ is_error: true, api_error_status: 429, api_error: 'usage_limit_reached', terminal_reason: 'api_error' });
    expect(code).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('answers the auto-mode classifier as a side request without touching the rules', async () => {
    const command = 'mkdir -p sub && cd sub && git init -q && echo hi > f && git add -A && git -c user.name=t -c user.email=t@t commit -qm x';
    const { server, cwd, run } = await setup(
      [
        { name: 'bash', match: { turn: 0 }, reply: { tool_use: { name: 'Bash', input: { command, description: 'commit a file' } } } },
        { name: 'done', match: { turn: 1 }, reply: 'committed' },
      ],
      { autoMode: true },
    );
    const { code, result } = await run('commit something', ['--permission-mode', 'auto']);
    expect(result).toMatchObject({ is_error: false, result: 'committed', permission_denials: [] });
    expect(existsSync(join(cwd, 'sub', '.git'))).toBe(true);
    expect(code).toBe(0);
    const outcomes = server.requests.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'side').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'rule')).toHaveLength(2);
    expect(outcomes.filter((o) => !['rule', 'side', 'hello'].includes(o))).toEqual([]);
  });
});
