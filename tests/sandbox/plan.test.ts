import { describe, expect, it } from 'vitest';
import { bwrapArgs, commandSandboxOf, planCommandSandbox, type PathKinds } from '../../src/sandbox/plan.js';

const kinds = (entries: Record<string, 'file' | 'dir'>): PathKinds => new Map(Object.entries(entries));
const noEnv = { unset: [], set: {} };

describe('planCommandSandbox + bwrapArgs (pure)', () => {
  it('read-only root, private /tmp, the worktree writable with its .git, .claude and .mcp.json read-only, credentials hidden, no network or capabilities', () => {
    const plan = planCommandSandbox({
      sandbox: { denyRead: ['/home/u/.ssh', '/home/u/.npmrc', '/home/u/.aws'], keepVisible: ['/home/u', '/repo/.git'] },
      cwd: '/home/u/.cache/wt/1A',
      kinds: kinds({ '/home/u': 'dir', '/repo/.git': 'dir', '/home/u/.ssh': 'dir', '/home/u/.npmrc': 'file', '/home/u/.cache/wt/1A/.git': 'file', '/home/u/.cache/wt/1A/.claude': 'dir', '/home/u/.cache/wt/1A/.mcp.json': 'file' }),
    });
    expect(bwrapArgs(plan, ['/bin/sh', '-c', 'npm test'], { unset: ['GITHUB_TOKEN'], set: { TMPDIR: '/tmp' } })).toEqual([
      '--die-with-parent', '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--cap-drop', 'ALL',
      '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc',
      '--tmpfs', '/tmp',
      '--bind', '/home/u/.cache/wt/1A', '/home/u/.cache/wt/1A',
      '--ro-bind', '/home/u/.cache/wt/1A/.git', '/home/u/.cache/wt/1A/.git',
      '--ro-bind', '/home/u/.cache/wt/1A/.claude', '/home/u/.cache/wt/1A/.claude',
      '--ro-bind', '/home/u/.cache/wt/1A/.mcp.json', '/home/u/.cache/wt/1A/.mcp.json',
      '--tmpfs', '/home/u/.ssh', '--remount-ro', '/home/u/.ssh',
      '--ro-bind', '/dev/null', '/home/u/.npmrc',
      // ~/.aws does not exist: nothing to hide, and HOME is read-only so it cannot appear.
      '--unsetenv', 'GITHUB_TOKEN',
      '--setenv', 'TMPDIR', '/tmp',
      '--chdir', '/home/u/.cache/wt/1A', '--', '/bin/sh', '-c', 'npm test',
    ]);
    expect(plan.createdMountPoints).toEqual([]);
  });

  it('puts back, read-only, what lives under /tmp and is needed (outermost only), before the writable folders', () => {
    const plan = planCommandSandbox({
      sandbox: { denyRead: ['/tmp/r-home/.ssh'], keepVisible: ['/tmp/r-home', '/tmp/r/.git', '/tmp/r-home/.nvm/bin', '/tmp/gone'] },
      cwd: '/tmp/cache/wt/1A',
      writable: ['/tmp/mo-commit-x'],
      keepVisible: ['/usr/bin', '/tmp/tool/bin'],
      kinds: kinds({ '/tmp/r-home': 'dir', '/tmp/r/.git': 'dir', '/tmp/r-home/.nvm/bin': 'dir', '/tmp/tool/bin': 'dir', '/usr/bin': 'dir', '/tmp/r-home/.ssh': 'dir', '/tmp/cache/wt/1A/.git': 'file' }),
    });
    expect(plan.mounts).toEqual([
      { op: 'ro-bind', path: '/' },
      { op: 'tmpfs', path: '/tmp' },
      { op: 'ro-bind', path: '/tmp/r-home' },
      { op: 'ro-bind', path: '/tmp/r/.git' },
      { op: 'ro-bind', path: '/tmp/tool/bin' },
      { op: 'bind', path: '/tmp/mo-commit-x' },
      { op: 'empty-dir', path: '/tmp/mo-commit-x/.claude' },
      { op: 'empty-dir', path: '/tmp/mo-commit-x/.mcp.json' },
      { op: 'bind', path: '/tmp/cache/wt/1A' },
      { op: 'ro-bind', path: '/tmp/cache/wt/1A/.git' },
      { op: 'empty-dir', path: '/tmp/cache/wt/1A/.claude' },
      { op: 'empty-dir', path: '/tmp/cache/wt/1A/.mcp.json' },
      { op: 'empty-dir', path: '/tmp/r-home/.ssh' },
    ]);
    // The missing .claude and .mcp.json are mount points bwrap creates (empty read-only folders): the caller removes
    // them afterwards.
    expect(plan.createdMountPoints).toEqual(['/tmp/mo-commit-x/.claude', '/tmp/mo-commit-x/.mcp.json', '/tmp/cache/wt/1A/.claude', '/tmp/cache/wt/1A/.mcp.json']);
  });

  it('keeps the network only when asked (set-up with agent.sandbox.setup)', () => {
    const input = { sandbox: { denyRead: [], keepVisible: [] }, cwd: '/w', kinds: kinds({}) };
    expect(bwrapArgs(planCommandSandbox(input), ['true'], noEnv)).toContain('--unshare-net');
    const host = bwrapArgs(planCommandSandbox({ ...input, sandbox: { ...input.sandbox, network: 'host' } }), ['true'], noEnv);
    expect(host).not.toContain('--unshare-net');
    expect(host).toEqual(expect.arrayContaining(['--unshare-pid', '--cap-drop', 'ALL', '--tmpfs', '/tmp']));
  });

  it("the run's command sandbox: deny_read expanded against every HOME involved; none without bubblewrap (macOS)", () => {
    const input = { bwrap: '/usr/bin/bwrap', denyRead: ['~/.ssh', '~/.npmrc'], denyEnv: ['GH_TOKEN'], homes: ['/home/agent', '/home/me', '/home/me'], gitCommonDir: '/repo/.git' };
    expect(commandSandboxOf(input)).toEqual({
      bwrap: '/usr/bin/bwrap',
      denyRead: ['/home/agent/.ssh', '/home/me/.ssh', '/home/agent/.npmrc', '/home/me/.npmrc'],
      denyEnv: ['GH_TOKEN'],
      keepVisible: ['/home/agent', '/home/me', '/repo/.git'],
    });
    expect(commandSandboxOf({ ...input, bwrap: undefined })).toBeUndefined();
  });
});
