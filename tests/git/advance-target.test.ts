import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { advanceTarget, mergeInWorktree, takeResultCommand } from '../../src/git/merge.js';
import { commitAll } from '../../src/git/commit.js';
import { ensureExcluded, prepareTaskWorktree } from '../../src/git/worktree.js';
import { inspectRepo } from '../../src/git/repo.js';
import { tasksMdOwnFile } from '../../src/report/tasks-md-own-file.js';
import { BEGIN_MARKER, END_MARKER, spliceBlock } from '../../src/report/tasks-md.js';
import type { RunState } from '../../src/state/run-state.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.cleanup());

/** A minimal state: enough for renderTasksBlock. */
function state(runId: string): RunState {
  return {
    runId,
    status: 'running',
    targetBranch: 'main',
    targetStartSha: '0'.repeat(40),
    stages: [],
    tasks: {},
    updatedAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:00.000Z',
    logDir: 'logs/run-x',
  } as unknown as RunState;
}

/** A task branch whose one commit writes `files`; merged into a result on top of `base`. */
async function mergedResult(r: TempRepo, base: string, tasks: Record<string, Record<string, string>>): Promise<string> {
  const info = (await inspectRepo(r.root)).repo!;
  await ensureExcluded(info.commonDir, ['/.worktree/']);
  for (const [id, files] of Object.entries(tasks)) {
    const wt = path.join(r.root, '.worktree', id);
    await prepareTaskWorktree({ repoRoot: r.root, worktreePath: wt, branch: `milestone/${id}`, baseSha: base, reuse: false });
    for (const [file, content] of Object.entries(files)) writeFileSync(path.join(wt, file), content);
    expect((await commitAll(wt, `${id}: work`)).kind).toBe('committed');
  }
  const merged = await mergeInWorktree({
    repoRoot: r.root,
    mergeWorktreePath: path.join(r.root, '.worktree', '_merge'),
    baseSha: base,
    branches: Object.keys(tasks).map((id) => ({ branch: `milestone/${id}`, message: `Merge ${id}` })),
  });
  expect(merged.ok).toBe(true);
  return merged.sha;
}

const TASKS_MD = '# Tasks\n\n- [ ] parser\n- [ ] printer\n';

function withBlock(text: string, runId: string): string {
  return spliceBlock(text, `${BEGIN_MARKER}\n\nprogress of ${runId}\n\n${END_MARKER}`);
}

function advance(r: TempRepo, base: string, newSha: string, runId = 'run-2') {
  return advanceTarget({
    repoRoot: r.root,
    target: 'main',
    expectedOld: base,
    newSha,
    integrationBranch: 'milestone/integration',
    ownFiles: [tasksMdOwnFile(path.join(r.root, 'TASKS.md'), () => state(runId), r.root)],
  });
}

function sh(cwd: string, command: string): void {
  execFileSync('sh', ['-c', command], { cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x' } });
}

describe('advancing the target past the orchestrator\'s own TASKS.md block', () => {
  it('a tracked TASKS.md a task edited: sets the block aside, fast-forwards, writes the block again on the new TASKS.md', async () => {
    repo = makeRepo();
    repo.write('TASKS.md', TASKS_MD);
    const base = repo.commit('tasks');
    repo.write('TASKS.md', withBlock(TASKS_MD, 'run-1')); // the orchestrator's uncommitted progress block
    const edited = TASKS_MD.replace('- [ ] parser', '- [x] parser');
    const sha = await mergedResult(repo, base, { '1A': { 'TASKS.md': edited, 'a.txt': 'a\n' } });

    const moved = await advance(repo, base, sha);
    expect(moved).toEqual({ moved: true, how: 'fast-forward', setAside: ['TASKS.md'] });
    expect(repo.git('rev-parse', 'main')).toBe(sha);
    const now = readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8');
    expect(now.startsWith(edited)).toBe(true); // the task's edit is kept
    expect(now).toContain('## Progress — run run-2'); // the block is written again, from the state
    expect(repo.git('status', '--porcelain')).toBe('M TASKS.md');
    // The only uncommitted difference is the block.
    expect(spliceBlock(now, `${BEGIN_MARKER}\n${END_MARKER}`)).toBe(spliceBlock(edited, `${BEGIN_MARKER}\n${END_MARKER}`));
  });

  it('an untracked TASKS.md the orchestrator created, and a task that adds one: the task\'s file wins, the block goes on top', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    repo.write('TASKS.md', withBlock('', 'run-1'));
    const sha = await mergedResult(repo, base, { '1A': { 'TASKS.md': TASKS_MD } });
    const moved = await advance(repo, base, sha);
    expect(moved).toMatchObject({ moved: true, setAside: ['TASKS.md'] });
    const now = readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8');
    expect(now.startsWith(TASKS_MD)).toBe(true);
    expect(now).toContain('## Progress — run run-2');
  });

  it('a task that commits TASKS.md as a link out of the repository: the block is not written through it', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    repo.write('TASKS.md', withBlock('', 'run-1'));
    const outside = `${repo.root}-outside.txt`;
    writeFileSync(outside, 'not the repository\'s\n');
    try {
      const info = (await inspectRepo(repo.root)).repo!;
      await ensureExcluded(info.commonDir, ['/.worktree/']);
      const wt = path.join(repo.root, '.worktree', '1A');
      await prepareTaskWorktree({ repoRoot: repo.root, worktreePath: wt, branch: 'milestone/1A', baseSha: base, reuse: false });
      symlinkSync(outside, path.join(wt, 'TASKS.md'));
      expect((await commitAll(wt, '1A: link')).kind).toBe('committed');
      const merged = await mergeInWorktree({ repoRoot: repo.root, mergeWorktreePath: path.join(repo.root, '.worktree', '_merge'), baseSha: base, branches: [{ branch: 'milestone/1A', message: 'Merge 1A' }] });
      expect(merged.ok).toBe(true);
      if (!merged.ok) return;
      const moved = await advance(repo, base, merged.sha);
      expect(moved).toMatchObject({ moved: true });
      expect(readFileSync(outside, 'utf8')).toBe('not the repository\'s\n');
      expect(lstatSync(path.join(repo.root, 'TASKS.md')).isSymbolicLink()).toBe(true);
    } finally {
      rmSync(outside, { force: true });
    }
  });

  it('TASKS.md edited by two tasks of one stage: both edits and the block end up in the working tree', async () => {
    repo = makeRepo();
    repo.write('TASKS.md', `${TASKS_MD}\n## Notes\n\nnone\n`);
    const base = repo.commit('tasks');
    repo.write('TASKS.md', withBlock(`${TASKS_MD}\n## Notes\n\nnone\n`, 'run-1'));
    const sha = await mergedResult(repo, base, {
      '1A': { 'TASKS.md': `${TASKS_MD.replace('- [ ] parser', '- [x] parser')}\n## Notes\n\nnone\n` },
      '1B': { 'TASKS.md': `${TASKS_MD}\n## Notes\n\nprinter done\n` },
    });
    const moved = await advance(repo, base, sha);
    expect(moved.moved).toBe(true);
    const now = readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8');
    expect(now).toContain('- [x] parser');
    expect(now).toContain('printer done');
    expect(now).toContain('## Progress — run run-2');
  });

  it('an edit of yours to TASKS.md outside the block is yours: named, never set aside', async () => {
    repo = makeRepo();
    repo.write('TASKS.md', TASKS_MD);
    const base = repo.commit('tasks');
    repo.write('TASKS.md', withBlock(`${TASKS_MD}- [ ] my own line\n`, 'run-1'));
    const sha = await mergedResult(repo, base, { '1A': { 'a.txt': 'a\n' } });
    const moved = await advance(repo, base, sha);
    expect(moved).toMatchObject({ moved: false, userFiles: ['TASKS.md'] });
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('my own line');
    expect(repo.git('rev-parse', 'main')).toBe(base);
  });
});

describe('the target held back by your own changes', () => {
  it('names your files and prints a command that works: your overlapping change stashed around the fast-forward and kept', async () => {
    repo = makeRepo();
    const lines = (first: string, last: string) => `${first}\n2\n3\n4\n5\n6\n${last}\n`;
    repo.write('src.txt', lines('1', '7'));
    repo.write('TASKS.md', TASKS_MD);
    const base = repo.commit('base');
    repo.write('src.txt', lines('1', 'my line 7')); // yours, in a file the task also changed
    repo.write('notes.txt', 'mine\n'); // yours, untracked and untouched by the task: not in the way
    repo.write('TASKS.md', withBlock(TASKS_MD, 'run-1'));
    const sha = await mergedResult(repo, base, { '1A': { 'src.txt': lines('task line 1', '7'), 'TASKS.md': `${TASKS_MD}- [ ] more\n` } });

    const moved = await advance(repo, base, sha);
    expect(moved.moved).toBe(false);
    if (moved.moved) return;
    expect(moved.userFiles).toEqual(['src.txt']);
    expect(moved.reason).toContain('src.txt');
    expect(moved.reason).not.toContain('notes.txt');
    expect(repo.git('rev-parse', 'main')).toBe(base);
    // Plain `git merge --ff-only` would fail here (src.txt and TASKS.md are in the way); the printed command works.
    sh(repo.root, moved.command);
    expect(repo.git('rev-parse', 'main')).toBe(sha);
    expect(readFileSync(path.join(repo.root, 'src.txt'), 'utf8')).toBe(lines('task line 1', 'my line 7'));
    expect(readFileSync(path.join(repo.root, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toBe(`${TASKS_MD}- [ ] more\n`);
  });

  it('untracked files and folders of yours that the result does not bring in: fast-forwarded, kept as they were', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    repo.write('notes.txt', 'mine\n');
    repo.write('logs/today.log', 'my log\n');
    const sha = await mergedResult(repo, base, { '1A': { 'a.txt': 'a\n' } });
    expect(await advance(repo, base, sha)).toMatchObject({ moved: true, how: 'fast-forward' });
    expect(repo.git('rev-parse', 'main')).toBe(sha);
    expect(readFileSync(path.join(repo.root, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(path.join(repo.root, 'logs/today.log'), 'utf8')).toBe('my log\n');
    expect(readFileSync(path.join(repo.root, 'a.txt'), 'utf8')).toBe('a\n');
  });

  it('an untracked file of yours that the result brings in holds the target back, named', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    repo.write('a.txt', 'mine\n');
    const sha = await mergedResult(repo, base, { '1A': { 'a.txt': 'theirs\n' } });
    const moved = await advance(repo, base, sha);
    expect(moved).toMatchObject({ moved: false, userFiles: ['a.txt'] });
    expect(repo.git('rev-parse', 'main')).toBe(base);
    expect(readFileSync(path.join(repo.root, 'a.txt'), 'utf8')).toBe('mine\n');
  });

  it('an untracked file of yours in the way: the printed command stashes it too (plain `stash push -- a.txt` fails on it), the target advances, your file stays in the stash', async () => {
    repo = makeRepo();
    repo.write('TASKS.md', TASKS_MD);
    const base = repo.commit('base');
    repo.write('a.txt', 'mine\n');
    repo.write('TASKS.md', `${TASKS_MD}- [ ] my own line\n`);
    const sha = await mergedResult(repo, base, { '1A': { 'a.txt': 'theirs\n', 'TASKS.md': `- [x] ticked\n${TASKS_MD}` } });
    const moved = await advance(repo, base, sha);
    expect(moved.moved).toBe(false);
    if (moved.moved) return;
    expect(moved.command).toContain('--include-untracked');
    for (const command of [moved.command, await takeResultCommand({ repoRoot: repo.root, target: 'main', integrationBranch: 'milestone/integration', ownFiles: [tasksMdOwnFile(path.join(repo.root, 'TASKS.md'), () => state('run-2'), repo.root)] })]) {
      expect(command).toContain('stash push --include-untracked');
    }
    // The pop cannot put a.txt back over the result's a.txt: git keeps the stash, and says so.
    try {
      sh(repo.root, moved.command);
    } catch {
      /* the pop's refusal */
    }
    expect(repo.git('rev-parse', 'main')).toBe(sha);
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('my own line');
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('- [x] ticked');
    expect(repo.git('show', 'stash@{0}^3:a.txt')).toBe('mine');
  });

  it('an ignored file of yours that the result brings in (a task un-ignored it): kept, the target waits, the command refuses too', async () => {
    repo = makeRepo();
    repo.write('.gitignore', 'secret.env\nconf/\n');
    const base = repo.commit('ignore');
    repo.write('secret.env', 'MINE=1\n');
    repo.write('conf/deep/app.env', 'MINE=2\n');
    const sha = await mergedResult(repo, base, { '1A': { '.gitignore': '', 'secret.env': 'AGENT\n' } });
    const moved = await advance(repo, base, sha);
    expect(moved).toMatchObject({ moved: false, integrationBranch: 'milestone/integration' });
    if (moved.moved) return;
    expect(moved.reason).toContain('secret.env');
    expect(() => sh(repo.root, moved.command)).toThrow();
    expect(readFileSync(path.join(repo.root, 'secret.env'), 'utf8')).toBe('MINE=1\n');
    expect(repo.git('rev-parse', 'main')).toBe(base);
  });

  it('changes of yours that the result does not touch: the plain fast-forward command, which works', async () => {
    repo = makeRepo();
    repo.write('notes.txt', 'committed\n');
    const base = repo.commit('notes');
    repo.write('notes.txt', 'mine\n');
    const sha = await mergedResult(repo, base, { '1A': { 'a.txt': 'a\n' } });
    const moved = await advance(repo, base, sha);
    expect(moved).toMatchObject({ moved: false, userFiles: ['notes.txt'], command: 'git merge --ff-only --no-overwrite-ignore milestone/integration' });
    if (moved.moved) return;
    sh(repo.root, moved.command);
    expect(repo.git('rev-parse', 'main')).toBe(sha);
    expect(existsSync(path.join(repo.root, 'notes.txt'))).toBe(true);
  });

  it('takeResultCommand answers for the repository as it is later: a branch not checked out is fast-forwarded by ref', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    repo.git('branch', 'release');
    const sha = await mergedResult(repo, base, { '1A': { 'a.txt': 'a\n' } });
    repo.git('branch', 'milestone/integration', sha);
    const ownFiles = [tasksMdOwnFile(path.join(repo.root, 'TASKS.md'), () => state('r'), repo.root)];
    const command = await takeResultCommand({ repoRoot: repo.root, target: 'release', integrationBranch: 'milestone/integration', ownFiles });
    expect(command).toBe('git fetch . milestone/integration:release');
    sh(repo.root, command);
    expect(repo.git('rev-parse', 'release')).toBe(sha);
    expect(repo.git('rev-parse', 'main')).toBe(base);
  });

  it('a target that moved on during the run: kept on the integration branch, and the printed merge works', async () => {
    repo = makeRepo();
    const base = repo.git('rev-parse', 'HEAD');
    const sha = await mergedResult(repo, base, { '1A': { 'a.txt': 'a\n' } });
    repo.write('mine.txt', 'mine\n');
    repo.commit('your commit during the run');
    const moved = await advance(repo, base, sha);
    expect(moved).toMatchObject({ moved: false, command: 'git merge milestone/integration' });
    if (moved.moved) return;
    expect(moved.reason).toContain('moved during the run');
    sh(repo.root, `git -c user.name=T -c user.email=t@x ${moved.command.slice('git '.length)} --no-edit`);
    expect(repo.git('merge-base', '--is-ancestor', sha, 'main')).toBe('');
    expect(existsSync(path.join(repo.root, 'mine.txt'))).toBe(true);
  });
});
