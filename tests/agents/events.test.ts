import { describe, expect, it } from 'vitest';
import { consumeLine, createStreamState, progressOf } from '../../src/agents/claude/events.js';
import { fixture, replay } from './helpers.js';

describe('stream-json parsing of real transcripts', () => {
  it('reads a successful run: session, turns, last tool, result figures', () => {
    const s = replay('success-write.jsonl');
    expect(s.sessionId).toBe('c0a38360-8a12-4baf-8c5f-2d69065414d9');
    expect(s.model).toBe('claude-opus-5-5');
    expect(s.permissionMode).toBe('acceptEdits');
    expect(s.turns).toBe(2);
    expect(s.lastTool).toBe('Write');
    expect(s.malformedLines).toBe(0);
    expect(s.result).toMatchObject({
      subtype: 'success',
      isError: false,
      terminalReason: 'completed',
      apiErrorStatus: null,
      numTurns: 2,
      totalCostUsd: 0.0016,
      usage: { inputTokens: 200, outputTokens: 40, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
      permissionDenials: [],
      hasStructuredOutput: false,
      durationMs: 344,
    });
    expect(s.result?.resultText).toMatch(/^TOOL_RESULT\(ok\)/);
  });

  it('finds the result whatever its key order (the real lines start with duration_api_ms or is_error)', () => {
    const lastLine = fixture('json-schema-retries.jsonl').trim().split('\n').at(-1)!;
    expect(lastLine.startsWith('{"is_error":true')).toBe(true);
    const s = replay('json-schema-retries.jsonl');
    expect(s.result).toMatchObject({ subtype: 'error_max_structured_output_retries', isError: true, numTurns: 6 });
    expect(s.result?.errors[0]).toMatch(/Failed to provide valid structured output after 5 attempts/);
  });

  it('counts one turn per assistant message, not per content block', () => {
    // write_default-style runs emit text and tool_use of one API message as two events with one message.id.
    const s = createStreamState();
    const block = (id: string, content: object) =>
      JSON.stringify({ type: 'assistant', message: { id, content: [content] }, parent_tool_use_id: null });
    consumeLine(s, block('msg_1', { type: 'text', text: 'Let me check git.' }));
    consumeLine(s, block('msg_1', { type: 'tool_use', name: 'Bash', input: {} }));
    consumeLine(s, block('msg_2', { type: 'text', text: 'done' }));
    expect(s.turns).toBe(2);
    expect(s.toolUses).toBe(1);
    expect(s.lastAssistantText).toBe('done');
  });

  it('counts malformed lines without failing and ignores blank ones', () => {
    const s = createStreamState();
    expect(consumeLine(s, 'not json at all')).toBeUndefined();
    expect(consumeLine(s, '[1,2,3]')).toBeUndefined();
    expect(consumeLine(s, '{"type":"result","is_err')).toBeUndefined();
    expect(consumeLine(s, '   ')).toBeUndefined();
    for (const line of fixture('success-write.jsonl').split('\n')) consumeLine(s, line);
    expect(s.malformedLines).toBe(3);
    expect(s.result?.isError).toBe(false);
  });

  it('reads the subscription usage limit: rate_limit_event and the usage_limit_reached message, seconds to ms', () => {
    const s = replay('usage-limit-oauth.jsonl');
    expect(s.rateLimitRejected).toEqual({ status: 'rejected', resetsAt: 1795445741000, rateLimitType: 'five_hour' });
    expect(s.lastApiError).toMatchObject({ status: 429, error: 'rate_limit', apiError: 'usage_limit_reached', resetsAt: 1795445741000 });
    expect(s.result).toMatchObject({ isError: true, subtype: 'success', apiErrorStatus: 429, apiError: 'usage_limit_reached' });
  });

  it('counts api_retry events', () => {
    const s = replay('e429-after-retries.jsonl');
    expect(s.apiRetries).toBe(10);
    expect(s.lastApiRetry).toEqual({ attempt: 10, maxRetries: 10, errorStatus: 429, error: 'rate_limit' });
  });

  it('collects permission denials from the system event and the result', () => {
    const s = replay('permission-denied.jsonl');
    expect(s.permissionDenied).toEqual([
      {
        toolName: 'Write',
        toolUseId: 'toolu_5',
        message: "Claude requested permissions to write to /home/dev/proj/work/w1/written.txt, but you haven't granted it yet.",
      },
    ]);
    expect(s.result?.permissionDenials).toEqual([
      { toolName: 'Write', toolUseId: 'toolu_5', toolInput: { file_path: '/home/dev/proj/work/w1/written.txt', content: 'hello from Write\n' } },
    ]);
  });

  it('tells structured_output present from absent', () => {
    expect(replay('json-schema.jsonl').result).toMatchObject({ hasStructuredOutput: true, structuredOutput: { name: 'Ada', age: 36 } });
    const textOnly = replay('json-schema-textonly.jsonl').result!;
    expect(textOnly.hasStructuredOutput).toBe(false);
    expect(textOnly.resultText).toBe('Done: hello from mock (req 336, msgs=4)');
  });

  it('reads error subtypes, which carry errors[] and no result text', () => {
    const s = replay('max-turns.jsonl');
    expect(s.result).toMatchObject({ subtype: 'error_max_turns', terminalReason: 'max_turns', numTurns: 4, errors: ['Reached maximum number of turns (3)'] });
    expect(s.result?.resultText).toBeUndefined();
  });

  it('keeps the session id from init when SIGTERM left no result', () => {
    const s = replay('sigterm-no-result.jsonl');
    expect(s.result).toBeUndefined();
    expect(s.sessionId).toBe('6c1cf6b4-0477-419e-b696-7e584f55e347');
  });

  it('reports live progress, with cost and tokens once the result is in', () => {
    const s = createStreamState();
    const seen = fixture('success-write.jsonl')
      .trim()
      .split('\n')
      .map((line) => (consumeLine(s, line), progressOf(s)));
    expect(seen[1]).toEqual({ sessionId: 'c0a38360-8a12-4baf-8c5f-2d69065414d9', turns: 1, lastTool: 'Write', costUsd: undefined, outputTokens: undefined });
    expect(seen.at(-1)).toMatchObject({ turns: 2, costUsd: 0.0016, outputTokens: 40 });
  });
});
