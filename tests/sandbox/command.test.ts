import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/run/commands.js';
import type { CommandSandbox } from '../../src/sandbox/plan.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

/**
 * Checks run inside real bubblewrap (src/sandbox): a check that tries every way out of its worktree changes
 * nothing and learns nothing; a normal `node --test` check passes; a toolchain under HOME stays runnable.
 */

const SECRET = 'SSH-KEY-check-sandbox-51d0';
const bwrap = execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim();

describe('checks in the sandbox (real bubblewrap)', () => {
  let repo: TempRepo;
  let worktree: string;
  let home: string;
  let outside: string;
  let sandbox: CommandSandbox;
  const env = (): NodeJS.ProcessEnv => ({ HOME: home, GITHUB_TOKEN: 'ghp_secret_check_token' });

  beforeAll(() => {
    repo = makeRepo();
    home = `${repo.root}-home`;
    outside = `${repo.root}-outside`;
    mkdirSync(path.join(home, '.ssh'), { recursive: true });
    writeFileSync(path.join(home, '.ssh', 'id_ed25519'), `${SECRET}\n`);
    // A toolchain installed under HOME, as nvm or rustup would.
    mkdirSync(path.join(home, '.tool', 'bin'), { recursive: true });
    writeFileSync(path.join(home, '.tool', 'bin', 'hometool'), '#!/bin/sh\necho HOMETOOL-RAN\n', { mode: 0o755 });
    mkdirSync(outside);
    worktree = `${repo.root}-wt`;
    repo.git('worktree', 'add', '-q', '-b', 'task', worktree);
    worktree = realpathSync(worktree);
    const commonDir = path.join(repo.root, '.git');
    sandbox = { bwrap, denyRead: [path.join(home, '.ssh'), path.join(home, '.aws')], denyEnv: ['GITHUB_TOKEN'], keepVisible: [home, commonDir] };
  });

  afterAll(() => {
    repo?.git('worktree', 'remove', '--force', worktree);
    repo?.cleanup();
    for (const d of [home, outside]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('a check that tries to leave its worktree changes nothing outside it and learns nothing', async () => {
    const refsBefore = repo.git('for-each-ref');
    const attempts = [
      `echo pwned > "$HOME/pwned-by-check.txt"`,
      `echo pwned > '${outside}/escaped.txt'`,
      `echo pwned > '${repo.root}/escaped-main.txt'`,
      `echo pwned > '${repo.root}/.git/refs/heads/escaped'`,
      `git branch escaped-branch`,
      `echo 'gitdir: /elsewhere' > .git`,
      `mkdir -p .claude && echo '{}' > .claude/settings.json`,
      // Project MCP servers: Claude Code starts them as the user in the next agent session (the reviewer's).
      `echo '{"mcpServers":{"x":{"command":"sh","args":["-c","touch /tmp/mcp-ran"]}}}' > .mcp.json`,
      `cat "$HOME/.ssh/id_ed25519"`,
      `echo "TOKEN=[\${GITHUB_TOKEN:-unset}]"`,
      `node -e "fetch('https://registry.npmjs.org/').then(() => console.log('NET-OK'), e => console.log('NETFAIL', e.cause ? e.cause.code : e.message))"`,
      `echo inside > inside.txt`,
      `echo private > /tmp/private.txt && cat /tmp/private.txt`,
    ].map((c) => `${c} 2>&1; echo "rc=$?"`);
    const r = await runCommand(attempts.join('\n'), { cwd: worktree, timeoutMs: 30_000, env: env(), sandbox });
    expect(r.exitCode, r.outputTail).toBe(0);
    const out = r.outputTail;
    // HOME, .git's refs (by hand and by git), the worktree's .git file and .claude; the outside folder and the main
    // checkout (both under /tmp here) are not even there: the check has a private /tmp.
    expect(out.match(/Read-only file system/g)?.length ?? 0, out).toBe(5);
    expect(out).not.toContain(SECRET);
    expect(out).toContain('TOKEN=[unset]');
    expect(out).toContain('NETFAIL');
    expect(out).not.toContain('NET-OK');
    expect(out).toContain('private');
    expect(existsSync(path.join(home, 'pwned-by-check.txt'))).toBe(false);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(path.join(repo.root, 'escaped-main.txt'))).toBe(false);
    expect(repo.git('for-each-ref')).toBe(refsBefore);
    expect(readFileSync(path.join(worktree, '.git'), 'utf8')).toMatch(/^gitdir: .*worktrees/);
    expect(existsSync(path.join(worktree, '.claude'))).toBe(false);
    expect(out).toContain('cannot create .mcp.json: Is a directory');
    expect(existsSync(path.join(worktree, '.mcp.json'))).toBe(false);
    // The private /tmp was the check's own: nothing of it is left in the real one.
    expect(existsSync('/tmp/private.txt')).toBe(false);
    // Its worktree it may write.
    expect(readFileSync(path.join(worktree, 'inside.txt'), 'utf8')).toBe('inside\n');
    expect(readFileSync(path.join(home, '.ssh', 'id_ed25519'), 'utf8')).toBe(`${SECRET}\n`);
  });

  it('a normal node --test check passes, git reads work, and a toolchain under HOME runs', async () => {
    writeFileSync(path.join(worktree, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0', scripts: { test: 'node --test' } }));
    mkdirSync(path.join(worktree, 'test'), { recursive: true });
    writeFileSync(path.join(worktree, 'test', 'a.test.js'), "require('node:test')('ok', () => require('node:fs').writeFileSync(require('node:os').tmpdir() + '/scratch', 'x'));\n");
    const r = await runCommand('npm test && git status --short && hometool', { cwd: worktree, timeoutMs: 60_000, env: { ...env(), PATH: `${path.join(home, '.tool', 'bin')}:${process.env.PATH}` }, sandbox });
    expect(r.ok, r.outputTail).toBe(true);
    expect(r.outputTail).toMatch(/# pass 1/);
    expect(r.outputTail).toContain('?? package.json');
    expect(r.outputTail).toContain('HOMETOOL-RAN');
  });

  it('no network but its own loopback; with network "host" (set-up) a server on the machine is reachable', async () => {
    const server = createServer((_req, res) => res.end('REACHED'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const fetchIt = `node -e "fetch('http://127.0.0.1:${port}/').then(r => r.text()).then(t => console.log(t), e => console.log('NETFAIL', e.cause ? e.cause.code : e.message))"`;
      const closed = await runCommand(fetchIt, { cwd: worktree, timeoutMs: 30_000, env: env(), sandbox });
      expect(closed.outputTail).toContain('NETFAIL ECONNREFUSED');
      const open = await runCommand(fetchIt, { cwd: worktree, timeoutMs: 30_000, env: env(), sandbox: { ...sandbox, network: 'host' } });
      expect(open.outputTail).toContain('REACHED');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a check that does not finish in time is stopped, with everything it started inside the sandbox', async () => {
    const pidFile = path.join(worktree, 'sleeper.pid');
    const r = await runCommand(`sleep 67.31 & echo $! > sleeper.pid; wait`, { cwd: worktree, timeoutMs: 1500, graceMs: 500, env: env(), sandbox });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    // The pid is the sandbox's own (its pid namespace): look for this test's own sleep (an unusual duration) instead.
    expect(readFileSync(pidFile, 'utf8').trim()).toMatch(/^\d+$/);
    const left = execFileSync('sh', ['-c', "pgrep -f '^sleep 67.31$' || true"], { encoding: 'utf8' }).trim();
    expect(left).toBe('');
  });

  it('a failing check still fails, with its output', async () => {
    const r = await runCommand('echo broken >&2; exit 3', { cwd: worktree, timeoutMs: 30_000, env: env(), sandbox });
    expect(r).toMatchObject({ ok: false, exitCode: 3 });
    expect(r.outputTail).toContain('broken');
  });
});
