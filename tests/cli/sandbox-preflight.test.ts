import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/**
 * The agents' sandbox as the orchestrator sets it up, with the fake agent (no real `claude`; the real CLI and real
 * bubblewrap are exercised in tests/e2e/sandbox.test.ts): the preflight, and the settings each agent role gets.
 */

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** A PATH folder with git and node only: no bwrap, no socat. */
function pathWithout(dir: string): string {
  mkdirSync(dir);
  symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), path.join(dir, 'git'));
  symlinkSync(process.execPath, path.join(dir, 'node'));
  return dir;
}

interface StartRecord {
  event: string;
  cwd: string;
  key: string | null;
  argv: string[];
}

function settingsOf(record: StartRecord): { sandbox: Record<string, any> } | undefined {
  const flag = record.argv.find((a) => a.startsWith('--settings='));
  return flag === undefined ? undefined : JSON.parse(flag.slice('--settings='.length));
}

function starts(log: string): StartRecord[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StartRecord)
    .filter((r) => r.event === 'start');
}

const approve = { structuredOutput: { verdict: 'approve', summary: 'ok', findings: [] } };

describe('agent.sandbox preflight', () => {
  it('"auto" on Linux without bubblewrap and socat: exit 3 naming the packages and the install command, nothing created', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: { steps: [{ write: '1A.txt', content: 'x' }] } });
    const bin = `${repo.root}-bin`;
    cleanup = () => {
      repo.cleanup();
      rmSync(bin, { recursive: true, force: true });
    };
    const branchesBefore = repo.git('branch', '--list');
    const r = await runCli([], { cwd: repo.root, env: { ...repo.env, PATH: pathWithout(bin) } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('bubblewrap and socat');
    expect(r.stderr).toContain('not found on PATH: bwrap, socat');
    expect(r.stderr).toContain('sudo apt-get install -y bubblewrap socat');
    expect(r.stderr).toContain('`agent.sandbox` to false');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // Before anything is created: no state, no lock, no worktree, no branch, no agent started.
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);
    expect(repo.git('worktree', 'list').split('\n')).toHaveLength(1);
    expect(repo.git('branch', '--list')).toBe(branchesBefore);
    expect(starts(repo.log)).toEqual([]);
  });

  it('false on the same machine: the run goes ahead with the allow-list and no --settings', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: { steps: [{ write: '1A.txt', content: 'x' }] } }, { agent: { sandbox: false } });
    const bin = `${repo.root}-bin`;
    cleanup = () => {
      repo.cleanup();
      rmSync(bin, { recursive: true, force: true });
    };
    const r = await runCli([], { cwd: repo.root, env: { ...repo.env, PATH: pathWithout(bin) } });
    expect(r.exitCode, r.stderr).toBe(0);
    const [worker] = starts(repo.log);
    expect(settingsOf(worker!)).toBeUndefined();
    expect(worker!.argv.some((a) => a.startsWith('--allowedTools'))).toBe(true);
  });
});

describe('agent.sandbox settings per agent role', () => {
  it('the worker may write its worktree, the reviewer nothing; .git is write-protected for both; refusals are counted', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      {
        rules: [
          { match: 'You are reviewing', run: approve },
          { match: 'milestone 1A', run: { steps: [{ write: '1A.txt', content: 'x' }, { bash: "echo 'sh: /elsewhere/x: Read-only file system'" }] } },
        ],
      },
      { review: { enabled: true, max_rounds: 1 }, agent: { sandbox: { allowed_domains: ['registry.npmjs.org'] } } },
    );
    cleanup = repo.cleanup;
    const r = await runCli([], { cwd: repo.root, env: { ...repo.env, HOME: '/home/someone' } });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}\n${JSON.stringify(readState(repo.root).tasks)}`).toBe(0);
    const [worker, reviewer] = starts(repo.log);
    expect(worker!.key).toBe('milestone 1A');
    expect(reviewer!.key).toBe('You are reviewing');
    const gitDir = path.join(repo.root, '.git');
    const worktree = worker!.cwd;
    expect(worktree.startsWith(repo.root)).toBe(false); // task worktrees live outside the repository by default
    const w = settingsOf(worker!)!.sandbox;
    expect(w).toMatchObject({ enabled: true, failIfUnavailable: true, autoAllowBashIfSandboxed: true, allowUnsandboxedCommands: false });
    expect(w.network).toEqual({ allowedDomains: ['registry.npmjs.org'], strictAllowlist: true });
    expect(w.filesystem.denyWrite).toEqual([gitDir]);
    expect(w.filesystem.denyRead).toContain('/home/someone/.ssh');
    expect(w.credentials.envVars).toContainEqual({ name: 'ANTHROPIC_API_KEY', mode: 'deny' });
    expect(settingsOf(reviewer!)!.sandbox.filesystem.denyWrite).toEqual([gitDir, worktree]);
    // The fake's Bash step printed a refusal the way bubblewrap reports one: counted, and the task still done.
    const state = readState(repo.root);
    expect(state.tasks['1A']).toMatchObject({ status: 'done', merged: true, sandboxRefusals: 1 });
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('1 sandbox refusal');
    const status = await runCli(['status', '--json'], { cwd: repo.root, env: repo.env });
    expect(JSON.parse(status.stdout).tasks[0]).toMatchObject({ id: '1A', sandboxRefusals: 1 });
    expect((await runCli(['status'], { cwd: repo.root, env: repo.env })).stdout).toMatch(/1 sandbox refusal\b/);
  });
});
