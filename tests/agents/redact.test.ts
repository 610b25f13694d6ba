import { describe, expect, it } from 'vitest';
import { addSecretValues, createRedactor } from '../../src/agents/redact.js';

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

describe('redaction by value and by shape', () => {
  const ghp = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
  it.each([
    ['a GitHub token', `push with ${ghp} now`, 'push with [REDACTED:github token] now'],
    ['a fine-grained GitHub token', `github_pat_11ABCDEFG0123456789_abcdefghijklmnop`, '[REDACTED:github token]'],
    ['an npm token', `//registry.npmjs.org/:_authToken=npm_${'a1B2c3D4e5'.repeat(4)}`, '//registry.npmjs.org/:_authToken=[REDACTED:npm token]'],
    ['an AWS key id', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE', 'aws_access_key_id = [REDACTED:aws key id]'],
    ['a Google API key', `key=AIza${'Sy0123456789abcdefghijklmnopqrstuvw'}`, 'key=[REDACTED:google api key]'],
    ['a Slack token', 'xoxb-123456789012-abcdefghijkl', '[REDACTED:slack token]'],
    ['an OpenAI-style key', `OPENAI sk-proj-${'x1Y2z3'.repeat(5)}`, 'OPENAI [REDACTED:sk-…]'],
    ['a bearer token', 'Authorization: Bearer abcdef0123456789abcdef.xyz', 'Authorization: Bearer [REDACTED]'],
    ['credentials in a URL', 'connect postgres://app:s3cr3t-pw@db.internal:5432/x failed', 'connect postgres://app:[REDACTED]@db.internal:5432/x failed'],
    ['a private key block', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----', '[REDACTED:private key]'],
  ])('%s', (_what, text, expected) => {
    expect(createRedactor({})(text)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const text = 'Bearer tokens are short-lived; see https://example.com/a:b and git@github.com:org/repo.git, token count 1234';
    expect(createRedactor({ PATH: '/usr/bin', NODE_ENV: 'production' })(text)).toBe(text);
  });

  it('replaces the values of secret-looking names in the environment, and the password of a URL variable', () => {
    const redact = createRedactor({ GH_PAT: 'plain-looking-value-1', SERVICE_COOKIE: 'cookie-value-xyz', DATABASE_URL: 'postgres://u:Very%2FSecret1@h/db' });
    expect(redact('a plain-looking-value-1 b cookie-value-xyz c Very/Secret1 d Very%2FSecret1')).toBe(
      'a [REDACTED:GH_PAT] b [REDACTED:SERVICE_COOKIE] c [REDACTED:DATABASE_URL password] d [REDACTED:DATABASE_URL password]',
    );
  });

  it('replaces registered values (agent.env) whatever their names, also JSON-escaped inside a JSON line', () => {
    addSecretValues({ FEATURE_FLAGS: 'not-a-secret-name "but secret"', SHORT: 'abc' }, 'agent.env');
    const redact = createRedactor({});
    const line = JSON.stringify({ text: 'value: not-a-secret-name "but secret"' });
    const out = redact(line);
    expect(JSON.parse(out)).toEqual({ text: 'value: [REDACTED:agent.env.FEATURE_FLAGS]' });
    expect(redact('abc')).toBe('abc');
  });

  it('never breaks the JSON of a transcript line', () => {
    const event = { type: 'assistant', text: 'x://","y":"z@w and postgres://a:b"c@h', key: `sk-${'a'.repeat(30)}"` };
    const out = createRedactor({})(JSON.stringify(event));
    expect(() => JSON.parse(out)).not.toThrow();
  });
});
