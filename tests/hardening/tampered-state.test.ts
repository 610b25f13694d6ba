import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';
import { taskWorktree } from '../support/paths.js';
import { processStartTime } from '../../src/run/orphans.js';
import { isPidAlive } from '../../src/util/process.js';

let cleanup: (() => void) | undefined;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  cleanup?.();
});

const PLAN = { '1A': milestone('1A'), '1B': milestone('1B') };
const SCRIPT = {
  rules: Object.keys(PLAN).map((id) => ({
    match: `milestone ${id}:`,
    run: { steps: [{ write: `${id}.txt`, content: `${id}\n` }, { bash: `git add -A && git commit -qm "${id}: work"` }] },
  })),
};

function stateFile(root: string): string {
  return path.join(root, '.orchestrator', 'run-state.json');
}

function tamper(root: string, edit: (s: any) => void): void {
  const state = readState(root);
  edit(state);
  writeFileSync(stateFile(root), JSON.stringify(state, null, 2));
}

async function finishedRun() {
  const repo = makeEngineRepo(PLAN, SCRIPT);
  cleanup = repo.cleanup;
  const first = await runCli([], { cwd: repo.root, env: repo.env });
  expect(first.exitCode, first.stderr).toBe(0);
  return repo;
}

describe('a tampered state file cannot reach outside what the run owns', () => {
  it('--resume neither signals an unrelated process nor merges a branch the file names', async () => {
    const repo = await finishedRun();
    // A user's own branch, not part of the run.
    repo.git('checkout', '-q', '-b', 'feature/unrelated');
    repo.write('unrelated.txt', 'mine\n');
    const unrelatedSha = repo.commit('unrelated work');
    repo.git('checkout', '-q', 'main');
    const mainBefore = repo.git('rev-parse', 'main');
    // An unrelated process, running in "/" (the worktree the file claims) with its real start time recorded.
    const victim = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd: '/', detached: true, stdio: 'ignore' });
    children.push(victim);
    tamper(repo.root, (s) => {
      s.status = 'interrupted';
      s.tasks['1A'].agentPid = victim.pid;
      s.tasks['1A'].agentStart = processStartTime(victim.pid!);
      s.tasks['1A'].worktree = '/';
      s.tasks['1B'].merged = false;
      s.tasks['1B'].branch = 'feature/unrelated';
      s.tasks['1B'].worktree = '../../elsewhere';
    });

    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(isPidAlive(victim.pid!)).toBe(true);
    expect(repo.git('rev-parse', 'main')).toBe(mainBefore);
    expect(repo.git('log', '--format=%H', 'main')).not.toContain(unrelatedSha);
    const after = readState(repo.root);
    expect(after.tasks['1B'].branch).toBe('milestone/1B');
    expect(path.resolve(repo.root, after.tasks['1B'].worktree)).toBe(taskWorktree(repo.root, '1B'));
    expect(after.tasks['1A'].agentPid).toBeUndefined();
  });

  it('--resume refuses a target branch that is not the one the run started on', async () => {
    const repo = await finishedRun();
    repo.git('checkout', '-q', '--orphan', 'feature/unrelated');
    repo.write('unrelated.txt', 'mine\n');
    const unrelatedSha = repo.commit('unrelated history');
    repo.git('checkout', '-q', 'main');
    tamper(repo.root, (s) => {
      s.status = 'interrupted';
      s.targetBranch = 'feature/unrelated';
      s.tasks['1B'].merged = false;
    });
    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(3);
    expect(resumed.stderr).toContain('cannot resume: the run state .orchestrator/run-state.json does not match this repository: its target branch feature/unrelated does not contain the commit the run started from');
    expect(resumed.stderr).toContain('mv .orchestrator/run-state.json .orchestrator/run-state.json.bad');
    expect(repo.git('rev-parse', 'feature/unrelated')).toBe(unrelatedSha);
  });

  it('status, status --json and --resume refuse a state file with wrong types: exit 2, where and how to recover', async () => {
    const repo = await finishedRun();
    tamper(repo.root, (s) => {
      s.tasks['1A'].stage = null;
      s.tasks['1B'].costUsd = '0.5';
    });
    for (const args of [['status'], ['status', '--json'], ['--resume'], ['clean']]) {
      const r = await runCli(args, { cwd: repo.root, env: repo.env });
      expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('.orchestrator/run-state.json');
      expect(r.stderr).toContain('the run state file is unreadable: tasks.1A.stage: expected');
      expect(r.stderr).toContain('tasks.1B.costUsd');
      expect(r.stderr).toMatch(/move it aside/);
      expect(r.stderr + r.stdout).not.toMatch(/internal error|TypeError/);
    }
  });

  it('a lock that is a directory is refused with what to remove, by a run and by clean', async () => {
    const repo = makeEngineRepo(PLAN, SCRIPT);
    cleanup = repo.cleanup;
    const lock = path.join(repo.root, '.orchestrator', 'lock');
    mkdirSync(lock, { recursive: true });
    for (const args of [[], ['clean']]) {
      const r = await runCli(args, { cwd: repo.root, env: repo.env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(4);
      expect(r.stderr).toContain(`the run lock ${lock} is a directory`);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    const status = await runCli(['status'], { cwd: repo.root, env: repo.env });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(existsSync(stateFile(repo.root))).toBe(false); // nothing started
  });
});

describe('control characters in a tampered state or lock file', () => {
  // eslint-disable-next-line no-control-regex
  const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

  it('are shown escaped by status, status --json and the refusal of a run, never sent raw to the terminal', async () => {
    const repo = await finishedRun();
    tamper(repo.root, (s) => {
      s.status = 'failed';
      s.message = 'stopped\u001b[2J\u001b]0;pwned\u0007';
      s.tasks['1B'].title = 'Title \u001b]52;c;ZXZpbA==\u0007 with OSC 52';
      s.tasks['1B'].status = 'failed';
      s.tasks['1B'].merged = false;
      s.tasks['1B'].reason = 'broke\u009b31m\u202eevil';
    });
    const lock = { pid: 4242, host: 'other\u001b[8mhost', startedAt: '2026-11-30T10:00:00.000Z', command: 'orchestrate \u001b[2K' };
    writeFileSync(path.join(repo.root, '.orchestrator', 'lock'), JSON.stringify(lock));

    const text = await runCli(['status'], { cwd: repo.root, env: repo.env });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(RAW);
    expect(text.stdout).toContain('Title \\x1b]52;c;ZXZpbA==\\x07 with OSC 52');
    expect(text.stdout).toContain('stopped\\x1b[2J\\x1b]0;pwned\\x07');
    expect(text.stdout).toContain('broke\\x9b31m\\u202eevil');
    expect(text.stdout).toContain('on other\\x1b[8mhost');

    const json = await runCli(['status', '--json'], { cwd: repo.root, env: repo.env });
    expect(json.stdout).not.toMatch(RAW);
    const doc = JSON.parse(json.stdout);
    expect(doc.tasks[1].reason).toBe('broke\u009b31m\u202eevil'); // the same value, written as \u escapes
    expect(doc.lock.host).toBe(lock.host);

    const run = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(4);
    expect(run.stdout + run.stderr).not.toMatch(RAW);
    expect(run.stderr).toContain('other\\x1b[8mhost');
  });
});

describe('a tampered run id', () => {
  it('cannot put transcripts outside the log folder nor control characters on the terminal', async () => {
    const repo = await finishedRun();
    for (const bad of ['../../../../../../../escaped', 'a/b', 'x\n\u001b[31mred', '']) {
      tamper(repo.root, (s) => {
        s.status = 'interrupted';
        s.runId = bad;
        s.tasks['1B'].status = 'pending';
        s.tasks['1B'].merged = false;
      });
      for (const args of [['status'], ['--resume']]) {
        const r = await runCli(args, { cwd: repo.root, env: repo.env });
        expect(r.exitCode, `${JSON.stringify(bad)} ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
        expect(r.stderr).toContain('the run state file is unreadable: runId: expected a run id');
        expect(r.stdout + r.stderr).not.toContain('\u001b[31m');
      }
    }
    expect(existsSync(path.join(path.dirname(repo.root), 'escaped'))).toBe(false);
  });

  it('an absurd cost is refused, not summed to $Infinity', async () => {
    const repo = await finishedRun();
    tamper(repo.root, (s) => {
      s.tasks['1A'].costUsd = 1e308;
      s.tasks['1B'].costUsd = 1e308;
    });
    const r = await runCli(['status'], { cwd: repo.root, env: repo.env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).not.toContain('Infinity');
  });
});

describe('a tampered integration branch', () => {
  it('--resume does not take a user branch named as the integration branch for the merge result', async () => {
    const repo = await finishedRun();
    repo.git('checkout', '-q', '-b', 'feature/unrelated');
    repo.write('unrelated.txt', 'mine\n');
    const unrelatedSha = repo.commit('unrelated work');
    repo.git('checkout', '-q', 'main');
    const mainBefore = repo.git('rev-parse', 'main');
    tamper(repo.root, (s) => {
      s.status = 'interrupted';
      s.integrationBranch = 'feature/unrelated';
      s.tasks['1B'].merged = false;
      s.stages[0].status = 'merging';
    });
    const resumed = await runCli(['--resume'], { cwd: repo.root, env: repo.env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(repo.git('log', '--format=%H', 'main')).not.toContain(unrelatedSha);
    expect(repo.git('merge-base', '--is-ancestor', mainBefore, 'main') === '' ).toBe(true);
    expect(repo.git('rev-parse', 'feature/unrelated')).toBe(unrelatedSha);
    expect(resumed.stdout + resumed.stderr).not.toContain('feature/unrelated');
  });

  it('status does not offer to merge a user branch named as the integration branch', async () => {
    const repo = await finishedRun();
    repo.git('branch', 'feature/unrelated');
    tamper(repo.root, (s) => {
      s.integrationBranch = 'feature/unrelated';
    });
    for (const args of [['status'], ['status', '--json']]) {
      const r = await runCli(args, { cwd: repo.root, env: repo.env });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('feature/unrelated');
    }
  });
});
