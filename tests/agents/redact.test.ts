import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/agents/redact.js';

describe('createRedactor', () => {
  it('replaces values of secret-named variables and anything shaped like an Anthropic key', () => {
    const redact = createRedactor({
      ANTHROPIC_API_KEY: 'sk-ant-api03-abcdefghijkl',
      GITHUB_TOKEN: 'ghp_0123456789abcdef',
      DB_PASSWORD: 'hunter2hunter2',
      PATH: '/usr/bin:/bin',
      SHORT_TOKEN: 'abc',
    });
    const text = 'k=sk-ant-api03-abcdefghijkl gh=ghp_0123456789abcdef pw=hunter2hunter2 other=sk-ant-oat01-zzzzzzzzzzzz path=/usr/bin:/bin abc';
    expect(redact(text)).toBe(
      'k=[REDACTED:ANTHROPIC_API_KEY] gh=[REDACTED:GITHUB_TOKEN] pw=[REDACTED:DB_PASSWORD] other=[REDACTED:sk-ant-…] path=/usr/bin:/bin abc',
    );
  });
});
