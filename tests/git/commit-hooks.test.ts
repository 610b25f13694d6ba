import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { commitAll } from '../../src/git/commit.js';
import { describeHookFailure, hookFailureLogLine } from '../../src/report/hook-failure.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.cleanup());

function hook(r: TempRepo, name: string, body: string): void {
  r.write(`.git/hooks/${name}`, `#!/bin/sh\n${body}\n`);
  chmodSync(path.join(r.root, '.git/hooks', name), 0o755);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('commitAll with the repository hooks', () => {
  it('commits through a commit-msg hook that rewrites the message, and a pre-commit hook that passes', async () => {
    repo = makeRepo();
    hook(repo, 'pre-commit', 'git diff --cached --name-only > "$(git rev-parse --git-common-dir)/seen-by-pre-commit"');
    hook(repo, 'commit-msg', 'printf "\\nRefs: TASK-1\\n" >> "$1"');
    repo.write('a.txt', 'a\n');
    const result = await commitAll(repo.root, '1A: work');
    expect(result.kind).toBe('committed');
    expect(repo.git('log', '-1', '--format=%B').trim()).toBe('1A: work\n\nRefs: TASK-1');
    expect(readFileSync(path.join(repo.root, '.git/seen-by-pre-commit'), 'utf8')).toBe('a.txt\n');
  });

  it('a refusing hook: nothing committed, the work stays staged, the hook named with its output', async () => {
    repo = makeRepo();
    hook(repo, 'commit-msg', 'echo "subject must start with a ticket" >&2; exit 3');
    repo.write('a.txt', 'a\n');
    const head = repo.git('rev-parse', 'HEAD');
    const result = await commitAll(repo.root, '1A: work');
    expect(result).toEqual({ kind: 'hook_failed', hook: 'commit-msg', exitCode: 3, output: 'subject must start with a ticket' });
    if (result.kind === 'hook_failed') expect(describeHookFailure(result)).toBe('the commit-msg hook refused the commit (exit 3)');
    expect(repo.git('rev-parse', 'HEAD')).toBe(head);
    expect(repo.git('diff', '--cached', '--name-only')).toBe('a.txt');
    // hooks: false commits anyway.
    expect((await commitAll(repo.root, '1A: work', { hooks: false })).kind).toBe('committed');
  });

  it('a hook that does not finish in time is stopped with everything it started, and counts as failed', async () => {
    repo = makeRepo();
    const pidFile = path.join(repo.root, '.git', 'hook-pid');
    hook(repo, 'pre-commit', `echo $$ > '${pidFile}'; echo linting; sleep 30 & wait`);
    repo.write('a.txt', 'a\n');
    const result = await commitAll(repo.root, '1A: work', { hookTimeoutMs: 500 });
    expect(result).toMatchObject({ kind: 'hook_failed', hook: 'pre-commit' });
    if (result.kind !== 'hook_failed') return;
    expect(result.output).toContain('linting');
    expect(result.output).toContain('did not finish within 0.5 s');
    expect(result).toMatchObject({ exitCode: undefined, stopped: { by: 'timeout', afterS: 0.5 } });
    expect(describeHookFailure(result)).toBe('the pre-commit hook did not finish within 0.5 s and was stopped, with everything it started');
    expect(hookFailureLogLine(result)).toMatch(/raise checks\.timeout \(now 0.5 s/);
    // SIGTERM went to the hook's whole process group; give the shell a moment to act on it.
    const pid = Number(readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    rmSync(pidFile);
  });
});
