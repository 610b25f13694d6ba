import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';
import { defaultPaths } from '../support/paths.js';

/** A run's footprint in the user's repository: by default only `.orchestrator/` and TASKS.md. */
let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const testFile = (name: string) => `import { test } from 'node:test';\nimport assert from 'node:assert';\ntest('${name}', () => assert.ok(true));\n`;

/** Runs `node --test` as a user would in the main checkout; returns the number of tests it ran. */
function nodeTestCount(cwd: string): number {
  const out = execFileSync(process.execPath, ['--test'], { cwd, encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined } });
  const match = /^# tests (\d+)$/m.exec(out);
  if (!match) throw new Error(`no test count in:\n${out}`);
  return Number(match[1]);
}

function excludeLines(root: string): string[] {
  const file = path.join(root, '.git', 'info', 'exclude');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('/')) : [];
}

describe("a run's footprint in the repository", () => {
  it("keeps worktrees and logs outside: the repository's own node --test suite runs exactly its own tests", async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      { rules: [{ match: 'milestone 1A:', run: { steps: [{ write: 'a.txt', content: 'a\n' }] } }, { match: 'milestone 1B:', run: { steps: [{ write: 'b.txt', content: 'b\n' }] } }] },
    );
    cleanup = repo.cleanup;
    repo.write('test/one.test.mjs', testFile('one'));
    repo.write('test/two.test.mjs', testFile('two'));
    repo.write('lib/three.test.js', testFile('three').replace(/^import (\{ test \}|assert) from '([^']+)';$/gm, "const $1 = require('$2');"));
    repo.commit('the project and its own tests');
    expect(nodeTestCount(repo.root)).toBe(3);

    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const paths = defaultPaths(repo.root);
    const state = readState(repo.root);
    // The worktrees (still on disk) and the transcripts are outside the repository.
    expect(existsSync(path.join(paths.worktreeDir, '1A', 'test', 'one.test.mjs'))).toBe(true);
    expect(path.relative(repo.root, paths.worktreeDir).startsWith('..')).toBe(true);
    expect(existsSync(path.resolve(repo.root, state.tasks['1A'].transcripts[0]))).toBe(true);
    expect(readdirSync(paths.logDir).some((f) => /^orchestrator_.*\.log$/.test(f))).toBe(true);

    expect(nodeTestCount(repo.root)).toBe(3);
    expect(excludeLines(repo.root)).toEqual(['/.orchestrator/']);
    // A folder of the user's own, untracked: a /logs/ exclude line would hide it from git status.
    repo.write('logs/mine.txt', 'my notes\n');
    expect(repo.git('status', '--porcelain').split('\n').sort()).toEqual(['?? TASKS.md', '?? logs/']);
    expect(readdirSync(repo.root).sort()).toEqual(['.git', '.orchestrator', 'README.md', 'TASKS.md', 'a.txt', 'b.txt', 'lib', 'logs', 'milestones', 'orchestrator.config.json', 'test']);

    // status and clean find them there.
    const status = JSON.parse((await runCli(['status', '--json'], { cwd: repo.root, env: repo.env })).stdout);
    expect(status.worktreeDir).toBe(paths.worktreeDir);
    expect(status.worktrees.map((w: { path: string }) => w.path).sort()).toEqual([path.join(paths.worktreeDir, '1A'), path.join(paths.worktreeDir, '1B'), paths.mergeWorktree]);
    const clean = await runCli(['clean'], { cwd: repo.root, env: repo.env });
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`Removed worktree ${path.join(paths.worktreeDir, '1A')}`);
    expect(existsSync(paths.worktreeDir)).toBe(false);
  });

  it('keeps them inside when configured so (worktrees.dir ".worktree", logging.log_dir "logs"), excluded from git status', async () => {
    const repo = makeEngineRepo({ '1A': milestone('1A') }, { default: { steps: [{ write: 'a.txt', content: 'a\n' }] } }, { worktrees: { dir: '.worktree' }, logging: { log_dir: 'logs' } });
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(existsSync(path.join(repo.root, '.worktree', '1A', 'a.txt'))).toBe(true);
    expect(readdirSync(path.join(repo.root, 'logs')).some((f) => /^orchestrator_.*\.log$/.test(f))).toBe(true);
    expect(excludeLines(repo.root).sort()).toEqual(['/.orchestrator/', '/.worktree/', '/logs/']);
    expect(repo.git('status', '--porcelain')).toBe('?? TASKS.md'); // the orchestrator's report, for the user to commit
    const status = JSON.parse((await runCli(['status', '--json'], { cwd: repo.root, env: repo.env })).stdout);
    expect(status.worktreeDir).toBe('.worktree');
    expect(status.worktrees.map((w: { path: string }) => w.path).sort()).toEqual(['.worktree/1A', '.worktree/_merge']);
    expect(existsSync(defaultPaths(repo.root).worktreeDir)).toBe(false);
  });
});
