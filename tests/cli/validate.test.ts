import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { defaultPaths } from '../support/paths.js';
import { makeRepo, makeRepoWithExample, snapshotRepo, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.cleanup());

const withExample = makeRepoWithExample;

describe('orchestrate --validate-only', () => {
  it('prints the plan for the shipped example, exits 0 and writes nothing', async () => {
    repo = withExample();
    const before = snapshotRepo(repo);
    const files = readdirSync(repo.root).sort();
    const result = await runCli(['--validate-only'], { cwd: repo.root });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Stage 1 · 2 tasks/);
    expect(result.stdout).toMatch(/parallel: \[1A 1B\]/);
    expect(result.stdout).toMatch(/Critical path 3h 30m/);
    expect(snapshotRepo(repo)).toBe(before);
    expect(readdirSync(repo.root).sort()).toEqual(files);
    expect(existsSync(defaultPaths(repo.root).logDir)).toBe(false);
  });

  it('reports every problem with file:line:col, exits 2, no stack trace, repo untouched', async () => {
    repo = makeRepo();
    repo.write('milestones/1A.md', '---\nmax_turns: four\nmodle: x\n---\n# Milestone 1A - Setup\n\n## Tasks\n1. do it\n\n## Dependencies\n- 1C\n');
    repo.write('milestones/1B.md', '# B\n\n## Tasks\n- x\n\n## Dependencies\n- 2A\n');
    repo.write('milestones/2A.md', '# A\n\n## Tasks\n- y\n');
    repo.write('milestones/notes.md', '# stray\n');
    repo.commit('bad milestones');
    const before = snapshotRepo(repo);
    const result = await runCli(['--validate-only'], { cwd: repo.root });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('milestones/1A.md:2:1: error: max_turns: expected a whole number >= 1, got "four"');
    expect(result.stderr).toMatch(/milestones\/1A\.md:3:1: error: .*"modle"\n  hint: did you mean "model"\?/);
    expect(result.stderr).toMatch(/milestones\/1A\.md:11:\d+: error: .*1C/);
    expect(result.stderr).toMatch(/milestones\/1B\.md:7:\d+: error: .*later stage/);
    expect(result.stderr).toMatch(/milestones\/notes\.md: error: .*\[1-9\]\[A-Z\]\.md|milestones\/notes\.md: error: .*1A\.md/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(snapshotRepo(repo)).toBe(before);
  });

  it('rejects an unknown flag, stage or milestone as a usage error with a hint', async () => {
    repo = withExample();
    const flag = await runCli(['--stagee', '1', '--validate-only'], { cwd: repo.root });
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--stagee'/);
    expect(flag.stderr).toMatch(/Did you mean --stage\?/);
    const stage = await runCli(['--stage', '7', '--validate-only'], { cwd: repo.root });
    expect(stage.exitCode).toBe(2);
    expect(stage.stderr).toMatch(/stage 7/i);
    const milestone = await runCli(['--milestone', '2C', '--validate-only'], { cwd: repo.root });
    expect(milestone.exitCode).toBe(2);
    expect(milestone.stderr).toMatch(/2C/);
    const bad = await runCli(['--milestone', 'first', '--validate-only'], { cwd: repo.root });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/like 1A/);
  });

  it('prints only the selected part of the plan with --stage, after validating everything', async () => {
    repo = withExample();
    const result = await runCli(['--validate-only', '--stage', '2', '--stage', '1'], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('2A');
    expect(result.stdout).not.toContain('3A');
  });

  it('works on another directory with --cwd, and says when that is not a repository for a run', async () => {
    repo = withExample();
    const elsewhere = path.dirname(repo.root);
    const ok = await runCli(['--cwd', repo.root, '--validate-only'], { cwd: elsewhere });
    expect(ok.exitCode).toBe(0);
    const missing = await runCli(['--cwd', path.join(repo.root, 'nope'), '--validate-only'], { cwd: elsewhere });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/no such directory/);
  });

  it('reports a bad configuration file with its location', async () => {
    repo = withExample();
    repo.write('orchestrator.config.json', '{\n  "max_parallel_tasks": "four",\n  "max_paralel": 2\n}\n');
    const result = await runCli(['--validate-only'], { cwd: repo.root });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('orchestrator.config.json:2:');
    expect(result.stderr).toContain('max_parallel_tasks: expected a whole number >= 1, got "four"');
    expect(result.stderr).toMatch(/orchestrator\.config\.json:3:\d+: error: .*max_paralel/);
  });

  it('prints help and version with exit 0', async () => {
    repo = withExample();
    const help = await runCli(['--help'], { cwd: repo.root });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('--validate-only');
    expect(help.stdout).toContain('Exit codes');
    const version = await runCli(['--version'], { cwd: repo.root });
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
