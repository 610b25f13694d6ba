import { describe, expect, it } from 'vitest';
import { createStreamState, consumeLine } from '../../src/agents/claude/events.js';
import { decideOutcome, formatDuration } from '../../src/agents/claude/outcome.js';
import { parseUtcResetClock } from '../../src/agents/claude/usage-limit.js';
import { fixture, outcomeOf } from './helpers.js';
import { localDateTime } from '../../src/report/local-time.js';

describe('outcome of real runs', () => {
  it('success', () => {
    expect(outcomeOf('success-write.jsonl', { exitCode: 0 })).toEqual({ ok: true });
  });

  it('a 429 left after retries is rate_limited although subtype says success', () => {
    const o = outcomeOf('e429-after-retries.jsonl', { exitCode: 1 });
    expect(o.failure?.kind).toBe('rate_limited');
    expect(o.failure?.message).toMatch(/HTTP 429.*10 retries.*per-minute rate limit.*Lower the number of parallel agents/);
  });

  it('a repeated 529 is rate_limited (overloaded)', () => {
    const o = outcomeOf('e529.jsonl', { exitCode: 1 });
    expect(o.failure).toMatchObject({ kind: 'rate_limited' });
    expect(o.failure?.message).toMatch(/overloaded \(HTTP 529\)/);
  });

  it('the OAuth usage limit carries resetsAt from the rate_limit_event', () => {
    const o = outcomeOf('usage-limit-oauth.jsonl', { exitCode: 1 });
    expect(o.failure?.kind).toBe('usage_limit');
    expect(o.resetsAt).toBe(1795445741000);
    expect(o.failure?.message).toContain("You've hit your 5-hour limit");
    // Read by a person: local time with its offset, as status and TASKS.md show times.
    expect(o.failure?.message).toContain(`it resets at ${localDateTime(1795445741000)}`);
    expect(o.failure?.message).not.toContain(new Date(1795445741000).toISOString());
  });

  it('"usage limit reached|<epoch>" in the result text is a usage limit with that reset time', () => {
    const o = outcomeOf('usage-limit-text.jsonl', { exitCode: 1 });
    expect(o.failure?.kind).toBe('usage_limit');
    expect(o.resetsAt).toBe(1795445753000);
  });

  it('a permission denial with exit 0 is a failure naming the tool', () => {
    const o = outcomeOf('permission-denied.jsonl', { exitCode: 0 });
    expect(o.failure?.kind).toBe('permission_denied');
    expect(o.failure?.message).toMatch(/permission to use Write .*haven't granted it yet.*allowed_tools/);
  });

  it('with the sandbox on, a permission denial does not suggest acceptEdits or allowed_tools (both already moot)', () => {
    const o = outcomeOf('permission-denied.jsonl', { exitCode: 0, sandboxed: true });
    expect(o.failure?.kind).toBe('permission_denied');
    expect(o.failure?.message).toMatch(/permission to use Write .*haven't granted it yet/);
    expect(o.failure?.message).toContain('The sandbox is on, so every shell command is allowed (inside it): this is a refusal by Claude Code itself');
    expect(o.failure?.message).not.toMatch(/acceptEdits|(?<!dis)allowed_tools/);
  });

  it('max turns', () => {
    const o = outcomeOf('max-turns.jsonl', { exitCode: 1 });
    expect(o.failure?.kind).toBe('max_turns');
    expect(o.failure?.message).toContain('Reached maximum number of turns (3)');
  });

  it('budget', () => {
    const o = outcomeOf('budget.jsonl', { exitCode: 1 });
    expect(o.failure?.kind).toBe('budget');
    expect(o.failure?.message).toMatch(/Reached maximum budget \(\$0\.5\).*spent \$1\.80/);
  });

  it('json-schema with structured_output is ok', () => {
    expect(outcomeOf('json-schema.jsonl', { exitCode: 0, expectStructuredOutput: true })).toEqual({ ok: true });
  });

  it('json-schema success without structured_output is structured_output_missing (only when a schema was asked for)', () => {
    const o = outcomeOf('json-schema-textonly.jsonl', { exitCode: 0, expectStructuredOutput: true });
    expect(o.failure?.kind).toBe('structured_output_missing');
    expect(o.failure?.message).toMatch(/never|without calling the StructuredOutput tool/);
    expect(outcomeOf('json-schema-textonly.jsonl', { exitCode: 0 }).ok).toBe(true);
  });

  it('structured output that never matched the schema', () => {
    const o = outcomeOf('json-schema-retries.jsonl', { exitCode: 1, expectStructuredOutput: true });
    expect(o.failure?.kind).toBe('structured_output_missing');
    expect(o.failure?.message).toContain('after 5 attempts');
  });

  it.each([
    ['e401.jsonl', /Invalid API key/],
    ['e403.jsonl', /403/],
    ['not-logged-in.jsonl', /Not logged in/],
  ])('%s is an auth failure with the fix', (name, detail) => {
    const o = outcomeOf(name, { exitCode: 1 });
    expect(o.failure?.kind).toBe('auth');
    expect(o.failure?.message).toMatch(detail);
    expect(o.failure?.message).toMatch(/`\/login`.*ANTHROPIC_API_KEY/);
  });

  it('other API errors are api_error with a hint', () => {
    expect(outcomeOf('e400-credit.jsonl', { exitCode: 1 }).failure).toMatchObject({
      kind: 'api_error',
      message: expect.stringMatching(/HTTP 400.*Credit balance is too low.*Add credits/),
    });
    expect(outcomeOf('connrefused.jsonl', { exitCode: 1 }).failure).toMatchObject({
      kind: 'api_error',
      message: expect.stringMatching(/ECONNREFUSED.*network access/),
    });
  });

  it('SIGTERM without a result: our timeout, our idle timeout, our abort, or someone else', () => {
    const base = { exitCode: 143, timeoutMs: 1_800_000, idleTimeoutMs: 600_000 };
    expect(outcomeOf('sigterm-no-result.jsonl', { ...base, killReason: 'timeout' }).failure).toMatchObject({
      kind: 'timeout',
      message: expect.stringMatching(/30m time limit.*SIGKILL after 5s/),
    });
    expect(outcomeOf('sigterm-no-result.jsonl', { ...base, killReason: 'idle_timeout' }).failure).toMatchObject({
      kind: 'idle_timeout',
      message: expect.stringMatching(/printed nothing for 10m/),
    });
    // With CPU and worktree watched (the adapter on Linux), the message says what the agent did not do.
    expect(outcomeOf('sigterm-no-result.jsonl', { ...base, killReason: 'idle_timeout', idleWatched: { cpu: true, worktree: true } }).failure?.message).toMatch(
      /^The agent printed nothing, used no CPU and changed no file in its worktree for 10m and was stopped/,
    );
    expect(outcomeOf('sigterm-no-result.jsonl', { ...base, killReason: 'idle_timeout', idleWatched: { cpu: false, worktree: true } }).failure?.message).toMatch(
      /^The agent printed nothing and changed no file in its worktree for 10m/,
    );
    expect(outcomeOf('sigterm-no-result.jsonl', { ...base, killReason: 'aborted' }).failure?.kind).toBe('aborted');
    expect(outcomeOf('sigterm-no-result.jsonl', base).failure).toMatchObject({
      kind: 'crashed',
      message: expect.stringMatching(/killed by SIGTERM from outside/),
    });
  });

  it('SIGINT from outside exits 0 with an error result: not a success', () => {
    const o = outcomeOf('sigint.jsonl', { exitCode: 0 });
    expect(o.failure?.kind).toBe('crashed');
    expect(o.failure?.message).toMatch(/interrupted from outside.*aborted_streaming/);
  });

  it('an unknown resume id is resume_failed', () => {
    const o = outcomeOf('sigterm-no-result.jsonl', {
      exitCode: 1,
      stderr: fixture('resume-bogus.err'),
      resumeSessionId: '99999999-2222-4333-8444-555555555555',
    });
    expect(o.failure?.kind).toBe('resume_failed');
    expect(o.failure?.message).toMatch(/Session 99999999-2222-4333-8444-555555555555 cannot be resumed/);
  });

  it('the root bypass refusal says how to fix it', () => {
    const o = decideOutcome({ ...empty(), exitCode: 1, stderr: fixture('bypass-root.err') });
    expect(o.failure).toMatchObject({ kind: 'crashed', message: expect.stringMatching(/IS_SANDBOX=1/) });
  });
});

function empty() {
  return {
    state: createStreamState(),
    exitCode: 0 as number | null,
    stderr: '',
    expectStructuredOutput: false,
    killGraceMs: 5000,
    commandLabel: 'claude',
    now: Date.UTC(2026, 10, 23, 13, 0),
  };
}

describe('outcome edge cases', () => {
  it('exit 0 without a result line is bad_output', () => {
    const input = empty();
    consumeLine(input.state, fixture('success-write.jsonl').split('\n')[0]!);
    consumeLine(input.state, 'garbage');
    const o = decideOutcome(input);
    expect(o.failure).toMatchObject({ kind: 'bad_output', message: expect.stringMatching(/without a result line \(1 event, 1 malformed line\)/) });
  });

  it('a non-zero exit without a result is crashed, with the stderr tail', () => {
    const o = decideOutcome({ ...empty(), exitCode: 2, stderr: 'boom\nTypeError: x is undefined\n' });
    expect(o.failure).toMatchObject({ kind: 'crashed', message: expect.stringMatching(/exited with code 2.*TypeError: x is undefined/) });
  });

  it('a success result with a non-zero exit code is not trusted', () => {
    const input = empty();
    for (const line of fixture('success-write.jsonl').split('\n')) consumeLine(input.state, line);
    expect(decideOutcome({ ...input, exitCode: 1 }).failure?.kind).toBe('crashed');
  });

  it('a spawn failure explains how to install the CLI', () => {
    const o = decideOutcome({ ...empty(), exitCode: null, spawnError: { code: 'ENOENT', message: 'spawn claude ENOENT' } });
    expect(o.failure).toMatchObject({ kind: 'cannot_start', message: expect.stringMatching(/not found.*npm i -g @anthropic-ai\/claude-code/) });
  });

  it('a rejected rate_limit_event does not fail a run that still succeeded', () => {
    const input = empty();
    consumeLine(input.state, JSON.stringify({ type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt: 1795445741 } }));
    for (const line of fixture('success-write.jsonl').split('\n')) consumeLine(input.state, line);
    expect(decideOutcome(input).ok).toBe(true);
  });

  it('a usage-limit event followed by a crash without result is still usage_limit', () => {
    const input = empty();
    consumeLine(input.state, JSON.stringify({ type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt: 1795445741, rateLimitType: 'seven_day' } }));
    const o = decideOutcome({ ...input, exitCode: 1 });
    expect(o).toMatchObject({ ok: false, resetsAt: 1795445741000, failure: { kind: 'usage_limit', message: expect.stringMatching(/seven-day window/) } });
  });
});

describe('parseUtcResetClock', () => {
  const at = (h: number, m = 0) => Date.UTC(2026, 10, 23, h, m);
  it('finds the next such time today or tomorrow', () => {
    expect(parseUtcResetClock("You've hit your 5-hour limit · resets 2:55pm (UTC)", at(13))).toBe(at(14, 55));
    expect(parseUtcResetClock('resets 2:55pm (UTC)', at(15))).toBe(at(14, 55) + 86_400_000);
    expect(parseUtcResetClock('resets 12am (UTC)', at(13))).toBe(Date.UTC(2026, 10, 24, 0, 0));
    expect(parseUtcResetClock('resets 12:30pm (UTC)', at(9))).toBe(at(12, 30));
  });
  it('ignores other time zones and nonsense', () => {
    expect(parseUtcResetClock('resets 2:55pm (Europe/Berlin)', at(13))).toBeUndefined();
    expect(parseUtcResetClock('resets 13:00pm (UTC)', at(13))).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('is short and readable', () => {
    expect([500, 5000, 90_000, 600_000, 5_400_000, 7_200_000].map(formatDuration)).toEqual(['500ms', '5s', '1m 30s', '10m', '1h 30m', '2h']);
  });
});
