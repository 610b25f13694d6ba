import { describe, expect, it } from 'vitest';
import { buildClaudeArgs } from '../../src/agents/claude/args.js';
import { consumeLine, createStreamState } from '../../src/agents/claude/events.js';
import { countSandboxRefusals, decideSandbox, expandHome, probeSandboxHost, sandboxSettings, type SandboxHost } from '../../src/agents/claude/sandbox.js';
import { configSchema, DEFAULT_SANDBOX_DENY_ENV, DEFAULT_SANDBOX_DENY_READ } from '../../src/config/schema.js';

const linux: SandboxHost = { platform: 'linux', release: '6.1.0-28-amd64', found: { bwrap: '/usr/bin/bwrap', socat: '/usr/bin/socat' } };
const sandboxOf = (value: unknown) => configSchema.parse({ agent: { sandbox: value } }).agent.sandbox;
const decide = (value: unknown, host: SandboxHost) => decideSandbox(sandboxOf(value), host, '/home/u', '/repo/.git');

describe('agent.sandbox in the configuration', () => {
  it('defaults to "auto" with the credential folders and variables denied and no network', () => {
    expect(configSchema.parse({}).agent.sandbox).toEqual({
      enabled: 'auto',
      allowed_domains: [],
      deny_read: DEFAULT_SANDBOX_DENY_READ,
      deny_env: DEFAULT_SANDBOX_DENY_ENV,
      // Checks and hooks in bubblewrap; set-up commands as the user unless asked (README: "Security model").
      checks: true,
      setup: false,
    });
    expect(DEFAULT_SANDBOX_DENY_READ).toEqual(expect.arrayContaining(['~/.ssh', '~/.aws', '~/.config/gh', '~/.gnupg', '~/.docker', '~/.kube', '~/.npmrc']));
  });

  it('takes "auto", true and false as short forms, and an object whose lists replace the defaults', () => {
    expect(sandboxOf(true).enabled).toBe(true);
    expect(sandboxOf(false)).toMatchObject({ enabled: false, deny_read: DEFAULT_SANDBOX_DENY_READ });
    expect(sandboxOf({ allowed_domains: ['registry.npmjs.org'], deny_read: ['~/.secrets'] })).toEqual({
      enabled: 'auto',
      allowed_domains: ['registry.npmjs.org'],
      deny_read: ['~/.secrets'],
      deny_env: DEFAULT_SANDBOX_DENY_ENV,
      checks: true,
      setup: false,
    });
    expect(sandboxOf({ setup: true }).setup).toBe(true);
    expect(sandboxOf({ checks: false }).checks).toBe(false);
  });

  it('refuses other values and unknown keys', () => {
    expect(configSchema.safeParse({ agent: { sandbox: 'yes' } }).success).toBe(false);
    expect(configSchema.safeParse({ agent: { sandbox: { enabled: 'auto', allowed_domain: [] } } }).success).toBe(false);
    expect(configSchema.safeParse({ agent: { sandbox: { allowed_domains: 'x.org' } } }).success).toBe(false);
    expect(configSchema.safeParse({ agent: { sandbox: { setup: 'yes' } } }).success).toBe(false);
  });
});

describe('decideSandbox', () => {
  it('is on for Linux with bwrap and socat, with ~ expanded against the agents HOME and .git write-protected', () => {
    const d = decide({ allowed_domains: ['registry.npmjs.org'], deny_read: ['~/.ssh', '~', '/etc/secret'] }, linux);
    expect(d).toEqual({
      kind: 'on',
      platform: 'Linux',
      policy: { allowedDomains: ['registry.npmjs.org'], denyRead: ['/home/u/.ssh', '/home/u', '/etc/secret'], denyEnv: DEFAULT_SANDBOX_DENY_ENV, denyWrite: ['/repo/.git'] },
    });
  });

  it('refuses to start, naming the packages and the install command, when "auto" or true lacks the tools on Linux', () => {
    for (const value of ['auto', true]) {
      const d = decide(value, { ...linux, found: { socat: '/usr/bin/socat' } });
      expect(d.kind).toBe('unavailable');
      const problem = d.kind === 'unavailable' ? d.problem : '';
      expect(problem).toContain('not found on PATH: bwrap');
      expect(problem).toContain('bubblewrap and socat');
      expect(problem).toContain('sudo apt-get install -y bubblewrap socat');
      expect(problem).toContain('`agent.sandbox` to false');
    }
  });

  it('refuses to start when bwrap is there but cannot make a sandbox, and says what bwrap said', () => {
    const d = decide('auto', { ...linux, bwrapError: 'No permissions to create new namespace' });
    expect(d).toMatchObject({ kind: 'unavailable', problem: expect.stringContaining('No permissions to create new namespace') });
  });

  it('is off with one warning for "auto" on native Windows and WSL1, and refuses true there', () => {
    for (const host of [{ platform: 'win32', release: '10.0.22631', found: {} }, { platform: 'linux', release: '4.4.0-19041-Microsoft', found: {} }] as SandboxHost[]) {
      const d = decide('auto', host);
      expect(d).toMatchObject({ kind: 'off', warning: expect.stringContaining('allow-list') });
      expect(decide(true, host).kind).toBe('unavailable');
    }
  });

  it('is on for WSL2 and macOS, and off without a word for false anywhere', () => {
    expect(decide('auto', { ...linux, release: '5.15.90.1-microsoft-standard-WSL2' })).toMatchObject({ kind: 'on', platform: 'WSL2' });
    expect(decide('auto', { platform: 'darwin', release: '23.1.0', found: {} })).toMatchObject({ kind: 'on', platform: 'macOS' });
    expect(decide(false, { ...linux, found: {} })).toEqual({ kind: 'off' });
  });
});

describe('expandHome', () => {
  it('expands ~ and keeps absolute paths', () => {
    expect(expandHome('~/.config/gh', '/h')).toBe('/h/.config/gh');
    expect(expandHome('/abs/x', '/h')).toBe('/abs/x');
  });
});

describe('sandbox settings passed to the CLI', () => {
  const policy = { allowedDomains: ['registry.npmjs.org'], denyRead: ['/h/.ssh'], denyEnv: ['ANTHROPIC_API_KEY'], denyWrite: ['/repo/.git'] };

  it('sandboxes every shell command, allows it without a prompt and never runs it outside the sandbox', () => {
    expect(sandboxSettings(policy, { cwd: '/repo/.worktree/1A', readOnly: false })).toEqual({
      sandbox: {
        enabled: true,
        failIfUnavailable: true,
        autoAllowBashIfSandboxed: true,
        allowUnsandboxedCommands: false,
        network: { allowedDomains: ['registry.npmjs.org'], strictAllowlist: true },
        filesystem: { denyRead: ['/h/.ssh'], denyWrite: ['/repo/.git'] },
        credentials: { envVars: [{ name: 'ANTHROPIC_API_KEY', mode: 'deny' }] },
      },
      // Commands Claude Code's analyser cannot check (loops over variables, brace groups) would otherwise be denied.
      permissions: { allow: ['Bash'] },
      // npm's update check would be a blocked connection, counted as a refusal, on every npm command.
      env: { npm_config_update_notifier: 'false' },
    });
  });

  it('write-protects the working directory for a read-only run (the reviewer)', () => {
    const s = sandboxSettings(policy, { cwd: '/repo/.worktree/1A', readOnly: true }) as { sandbox: { filesystem: { denyWrite: string[] } } };
    expect(s.sandbox.filesystem.denyWrite).toEqual(['/repo/.git', '/repo/.worktree/1A']);
  });

  it('goes to the CLI as --settings=<json>, only with a policy', () => {
    const req = { cwd: '/w', prompt: 'go', transcriptPath: '/t', readOnly: true };
    const flag = buildClaudeArgs(req, policy).find((a) => a.startsWith('--settings='));
    expect(JSON.parse(flag!.slice('--settings='.length))).toEqual(sandboxSettings(policy, { cwd: '/w', readOnly: true }));
    expect(buildClaudeArgs(req).some((a) => a.startsWith('--settings'))).toBe(false);
  });
});

describe('sandbox refusals', () => {
  it('counts violation lines and read-only-file-system errors', () => {
    const text = [
      'bash: line 1: /repo/x.txt: Read-only file system',
      'ok',
      '<sandbox_violations>',
      'deny network-outbound example.com:443 (host is not on the allow list)',
      'deny network-outbound 127.0.0.1:8080 (host is not on the allow list)',
      '</sandbox_violations>',
    ].join('\n');
    expect(countSandboxRefusals(text)).toBe(3);
    expect(countSandboxRefusals('all fine\n')).toBe(0);
  });

  it('are counted from the results of shell tool calls only', () => {
    const state = createStreamState();
    const assistant = (id: string, name: string) =>
      JSON.stringify({ type: 'assistant', message: { id: `m-${id}`, content: [{ type: 'tool_use', id, name, input: {} }] } });
    const result = (id: string, content: unknown) =>
      JSON.stringify({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content }] } });
    consumeLine(state, assistant('t1', 'Bash'));
    consumeLine(state, result('t1', 'sh: /home/u/x: Read-only file system'));
    consumeLine(state, assistant('t2', 'Read'));
    consumeLine(state, result('t2', [{ type: 'text', text: 'a file that mentions Read-only file system' }]));
    consumeLine(state, assistant('t3', 'Bash'));
    consumeLine(state, result('t3', [{ type: 'text', text: '<sandbox_violations>\ndeny network-outbound x:443\n</sandbox_violations>' }]));
    expect(state.sandboxRefusals).toBe(2);
  });
});

describe('probeSandboxHost', () => {
  it('finds nothing on an empty PATH and needs no tools off Linux', async () => {
    expect((await probeSandboxHost({ PATH: '' }, 'linux')).found).toEqual({});
    expect(await probeSandboxHost({ PATH: '/usr/bin' }, 'win32')).toMatchObject({ platform: 'win32', found: {} });
  });

  it('finds bwrap and socat on PATH and checks that bwrap starts a sandbox', async () => {
    const host = await probeSandboxHost({ PATH: process.env.PATH }, 'linux');
    // The machines this runs on install both (.ci/run); bwrap then really ran.
    expect(host.found).toEqual({ bwrap: expect.stringMatching(/bwrap$/), socat: expect.stringMatching(/socat$/) });
    expect(host.bwrapError).toBeUndefined();
  });
});
