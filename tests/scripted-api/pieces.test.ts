import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeTestEnv } from '../../src/scripted-api/claude-env.js';
import { faultResponse } from '../../src/scripted-api/faults.js';
import { chunks } from '../../src/scripted-api/sse.js';

describe('faultResponse', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);

  it('defaults a usage limit to reset an hour from now', () => {
    const r = faultResponse({ kind: 'usage_limit', limitType: 'five_hour' }, 'req_1', now);
    expect(r.status).toBe(429);
    expect(r.headers['anthropic-ratelimit-unified-reset']).toBe(String(now / 1000 + 3600));
    expect(r.headers['anthropic-ratelimit-unified-5h-status']).toBe('rejected');
    expect(r.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' }, request_id: 'req_1' });
  });

  it('names the weekly window for a seven_day limit', () => {
    const r = faultResponse({ kind: 'usage_limit', limitType: 'seven_day', resetsAt: 1800000000 }, 'req_2', now);
    expect(r.headers).toMatchObject({
      'anthropic-ratelimit-unified-representative-claim': 'seven_day',
      'anthropic-ratelimit-unified-7d-reset': '1800000000',
    });
    expect(Object.keys(r.headers).some((h) => h.includes('-5h-'))).toBe(false);
  });

  it('adds API-key rate limit headers that reset when retry-after says', () => {
    const r = faultResponse({ kind: 'http', status: 429, retryAfter: 30, ratelimitHeaders: true }, 'req_3', now);
    expect(r.headers['retry-after']).toBe('30');
    expect(r.headers['anthropic-ratelimit-tokens-reset']).toBe(new Date(now + 30_000).toISOString());
    const bare = faultResponse({ kind: 'http', status: 500, ratelimitHeaders: false }, 'req_4', now);
    expect(bare.headers).toEqual({ 'request-id': 'req_4' });
    expect(bare.body.error).toEqual({ type: 'api_error', message: 'Internal server error' });
  });
});

describe('chunks', () => {
  it('never splits a surrogate pair and keeps empty text as one empty chunk', () => {
    const text = '😀'.repeat(5);
    const parts = chunks(text, 2);
    expect(parts).toEqual(['😀😀', '😀😀', '😀']);
    expect(chunks('')).toEqual(['']);
  });
});

describe('claudeTestEnv', () => {
  const base = {
    PATH: '/usr/bin',
    IS_SANDBOX: '1',
    ANTHROPIC_API_KEY: 'sk-real-key',
    ANTHROPIC_MODEL: 'opus',
    CLAUDECODE: '1',
    CLAUDE_CODE_ENTRYPOINT: 'cli',
    DO_NOT_TRACK: '1',
    DISABLE_TELEMETRY: '1',
  };

  it('drops the caller’s Claude variables and points the CLI at the server with a dummy key', () => {
    const env = claudeTestEnv({ serverUrl: 'http://127.0.0.1:1234', home: '/tmp/h', base });
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      IS_SANDBOX: '1',
      HOME: '/tmp/h',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:1234',
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_CODE_MAX_RETRIES: '2',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_TMPDIR: join('/tmp/h', 'tmp'),
    });
    for (const gone of ['ANTHROPIC_MODEL', 'CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'DO_NOT_TRACK', 'CLAUDE_CODE_OAUTH_TOKEN']) {
      expect(env).not.toHaveProperty(gone);
    }
  });

  it('uses an OAuth token and no API key under oauth, and keeps the classifier on for autoMode', () => {
    const oauth = claudeTestEnv({ serverUrl: 'http://x', home: '/h', oauth: true, maxRetries: 0, base });
    expect(oauth.CLAUDE_CODE_OAUTH_TOKEN).toMatch(/^sk-ant-oat01-/);
    expect(oauth).not.toHaveProperty('ANTHROPIC_API_KEY');
    expect(oauth.CLAUDE_CODE_MAX_RETRIES).toBe('0');
    const auto = claudeTestEnv({ serverUrl: 'http://x', home: '/h', autoMode: true, base });
    for (const gone of ['DISABLE_TELEMETRY', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', 'DO_NOT_TRACK']) expect(auto).not.toHaveProperty(gone);
  });
});
