import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClaudeAdapter } from '../../src/agents/claude/adapter.js';
import { findCredentialSource } from '../../src/agents/claude/credentials.js';
import { findPackageRoot, resolveClaudeCommand } from '../../src/agents/claude/resolve.js';
import { FAKE_AGENT } from './helpers.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fake = [process.execPath, FAKE_AGENT];

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'agents-home-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

/** A clean environment: no credentials from the machine running the tests leak in. */
const envWith = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ PATH: '/usr/bin:/bin', HOME: home, ...extra });

describe('preflight', () => {
  it('is ok with the CLI answering --version and an API key in the env', async () => {
    const a = await createClaudeAdapter({ command: fake }).preflight(envWith({ ANTHROPIC_API_KEY: 'sk-test-123456789' }));
    expect(a).toEqual({ ok: true, command: fake, version: '2.1.330', credentialSource: 'ANTHROPIC_API_KEY' });
  });

  it('without credentials it says how to log in', async () => {
    const a = await createClaudeAdapter({ command: fake }).preflight(envWith());
    expect(a).toMatchObject({ ok: false, version: '2.1.330' });
    expect(a.problem).toMatch(/no credentials.*`claude` and then `\/login`.*ANTHROPIC_API_KEY/);
  });

  it('a configured command that does not exist says how to install', async () => {
    const a = await createClaudeAdapter({ command: [join(home, 'claude')] }).preflight(envWith({ ANTHROPIC_API_KEY: 'sk-test-123456789' }));
    expect(a.ok).toBe(false);
    expect(a.problem).toMatch(/could not be started \(ENOENT\).*npm i -g @anthropic-ai\/claude-code/);
  });

  it('a command whose --version fails is reported with its output', async () => {
    const broken = join(home, 'broken-claude');
    writeFileSync(broken, '#!/bin/sh\necho segfault-ish >&2\nexit 3\n', { mode: 0o755 });
    const a = await createClaudeAdapter({ command: [broken] }).preflight(envWith({ ANTHROPIC_API_KEY: 'sk-test-123456789' }));
    expect(a.problem).toMatch(/--version` failed \(exit 3\): segfault-ish/);
  });

  it('with nothing found anywhere it names the places it looked', async () => {
    const a = await createClaudeAdapter({ projectRoot: home }).preflight(envWith());
    expect(a.ok).toBe(false);
    expect(a.problem).toContain(`\`claude\` on PATH and ${join(home, 'node_modules', '.bin', 'claude')}`);
    expect(a.problem).toContain('npm i -g @anthropic-ai/claude-code');
  });

  it('the real pinned CLI: found in node_modules/.bin and answers --version quickly', async () => {
    const adapter = createClaudeAdapter({ projectRoot: REPO_ROOT });
    const a = await adapter.preflight(envWith({ ANTHROPIC_API_KEY: 'sk-test-123456789' }));
    expect(a).toMatchObject({ ok: true, version: '2.1.330', command: [join(REPO_ROOT, 'node_modules', '.bin', 'claude')] });
  });
});

describe('command resolution', () => {
  it('prefers the configured command, then PATH, then the pinned package', () => {
    const bin = join(home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'claude'), '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveClaudeCommand({ command: ['/opt/c', '--x'] }, { PATH: bin })).toEqual({ file: '/opt/c', args: ['--x'], source: 'config' });
    expect(resolveClaudeCommand({ projectRoot: REPO_ROOT }, { PATH: `/nowhere:${bin}` })).toMatchObject({ file: join(bin, 'claude'), source: 'path' });
    expect(resolveClaudeCommand({ projectRoot: REPO_ROOT }, { PATH: '/nowhere' })).toMatchObject({ source: 'project' });
  });

  it('ignores a non-executable claude on PATH', () => {
    const bin = join(home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'claude'), 'not executable', { mode: 0o644 });
    expect(resolveClaudeCommand({ projectRoot: home }, { PATH: bin })).toBeUndefined();
  });

  it('finds the package root from the module location', () => {
    expect(findPackageRoot()).toBe(REPO_ROOT.replace(/\/$/, ''));
  });
});

describe('credential sources', () => {
  it.each(['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN'])('%s', (name) => {
    expect(findCredentialSource(envWith({ [name]: 'secret-value' }))).toBe(name);
  });

  it('cloud providers', () => {
    expect(findCredentialSource(envWith({ CLAUDE_CODE_USE_BEDROCK: '1' }))).toBe('CLAUDE_CODE_USE_BEDROCK');
    expect(findCredentialSource(envWith({ CLAUDE_CODE_USE_VERTEX: '0' }))).toBeUndefined();
  });

  it('a logged-in ~/.claude/.credentials.json', () => {
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', '.credentials.json'), '{"claudeAiOauth":{}}');
    expect(findCredentialSource(envWith())).toBe(join(home, '.claude', '.credentials.json'));
  });

  it('~/.claude.json counts only with an oauthAccount (the CLI creates it even when logged out)', () => {
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ firstStartTime: 'x', userID: 'u' }));
    expect(findCredentialSource(envWith())).toBeUndefined();
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ userID: 'u', oauthAccount: { emailAddress: 'a@b' } }));
    expect(findCredentialSource(envWith())).toBe(`${join(home, '.claude.json')} (logged in)`);
  });

  it('CLAUDE_CONFIG_DIR moves both files', () => {
    const dir = join(home, 'cfg');
    mkdirSync(dir);
    writeFileSync(join(dir, '.credentials.json'), '{}');
    expect(findCredentialSource(envWith({ CLAUDE_CONFIG_DIR: dir }))).toBe(join(dir, '.credentials.json'));
  });

  it('an apiKeyHelper in settings.json', () => {
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', 'settings.json'), JSON.stringify({ apiKeyHelper: '~/bin/get-key' }));
    expect(findCredentialSource(envWith())).toMatch(/settings\.json \(apiKeyHelper\)$/);
  });
});
