import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { makeRepo, type TempRepo } from '../support/git-repo.js';
import { defaultPaths } from '../support/paths.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/orchestrator.sh', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../milestones', import.meta.url));

const toClean: Array<() => void> = [];
afterEach(() => {
  for (const clean of toClean.splice(0)) clean();
});

function repoWithExample(): TempRepo {
  const repo = makeRepo();
  toClean.push(repo.cleanup);
  cpSync(EXAMPLE, path.join(repo.root, 'milestones'), { recursive: true });
  repo.commit('add milestones');
  return repo;
}

function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
  toClean.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the wrapper as a user would: by its path, from `cwd`, which is not the project's folder. */
async function wrapper(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; input?: string; script?: string }) {
  const result = await execa(opts.script ?? SCRIPT, args, {
    cwd: opts.cwd,
    env: { LOG_LEVEL: undefined, AUTO_RESUME: undefined, ORCHESTRATOR_CONFIG: undefined, ORCHESTRATE_JS: undefined, ...opts.env },
    reject: false,
    timeout: 60_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

describe('scripts/orchestrator.sh', () => {
  it('is executable and shellcheck-clean (CI must have shellcheck; elsewhere it is skipped without it)', (ctx) => {
    expect(statSync(SCRIPT).mode & 0o111).not.toBe(0);
    if (!hasShellcheck) {
      if (process.env.CI === 'true') throw new Error('shellcheck is not installed; CI must install it (apt-get install -y shellcheck)');
      ctx.skip('shellcheck is not installed here (apt-get install -y shellcheck); the CI run checks it');
    }
    const result = spawnSync('shellcheck', ['--shell=sh', SCRIPT], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('validate, run from the repository (not the project), prints the plan and exits 0; also through a symlink', async () => {
    const repo = repoWithExample();
    const direct = await wrapper(['validate'], { cwd: repo.root });
    expect(direct.stderr).toBe('');
    expect(direct.exitCode).toBe(0);
    expect(direct.stdout).toMatch(/Stage 1 · 2 tasks/);
    expect(direct.stdout).toMatch(/parallel: \[1A 1B\]/);

    const bin = tempDir('mo-bin-');
    symlinkSync(SCRIPT, path.join(bin, 'orchestrator'));
    const linked = await wrapper(['validate', '--stage', '1'], { cwd: repo.root, script: path.join(bin, 'orchestrator') });
    expect(linked.exitCode).toBe(0);
    expect(linked.stdout).toMatch(/Stage 1 · 2 tasks/);
    expect(linked.stdout).not.toMatch(/Stage 2/);
  });

  it('targets the current directory, unless --cwd names another repository', async () => {
    const repo = repoWithExample();
    const elsewhere = tempDir('mo-elsewhere-');
    const here = await wrapper(['status', '--json'], { cwd: repo.root });
    expect(here.exitCode).toBe(0);
    expect(JSON.parse(here.stdout)).toMatchObject({ repo: repo.root, run: null });

    const named = await wrapper(['status', '--json', '--cwd', repo.root], { cwd: elsewhere });
    expect(named.exitCode).toBe(0);
    expect(JSON.parse(named.stdout).repo).toBe(repo.root);

    // Not a repository: the CLI's own error and exit code come through.
    const notRepo = await wrapper(['status'], { cwd: elsewhere });
    expect(notRepo.exitCode).toBe(3);
    expect(notRepo.stderr).toMatch(/not a git repository/);
  });

  it('status prints the human summary through the wrapper', async () => {
    const repo = repoWithExample();
    mkdirSync(path.join(repo.root, 'sub'));
    const result = await wrapper(['status'], { cwd: path.join(repo.root, 'sub') });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`No run recorded in ${repo.root} yet`);
    expect(result.stdout).toContain(`No worktrees under ${defaultPaths(repo.root).worktreeDir}/.`);
  });

  it('help lists the commands (exit 0); an unknown command is a usage error (exit 2)', async () => {
    const cwd = tempDir('mo-help-');
    const help = await wrapper(['help'], { cwd });
    expect(help.exitCode).toBe(0);
    for (const command of ['setup', 'run', 'single', 'status', 'clean', 'validate']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const bad = await wrapper(['runn'], { cwd });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/unknown command 'runn'/);
  });

  it("an unknown flag points at the wrapper's own help for that command, which works when typed", async () => {
    const cwd = tempDir('mo-flag-');
    for (const command of ['run', 'status', 'validate']) {
      const bad = await wrapper([command, '--bogus'], { cwd });
      expect(bad.exitCode, bad.stderr).toBe(2);
      expect(bad.stderr).toContain(`Run '${SCRIPT} ${command} --help' for the options.`);
      expect(bad.stderr).not.toContain("'orchestrate");
      const help = await wrapper([command, '--help'], { cwd });
      expect(help.exitCode, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/^Usage: orchestrate/m);
    }
  });

  it('with no argument shows a menu that reads choices from stdin', async () => {
    const repo = repoWithExample();
    const result = await wrapper([], { cwd: repo.root, input: '4\nnonsense\nq\n' });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/1\) run/);
    expect(result.stdout).toMatch(/Stage 1 · 2 tasks/); // 4 = validate
    expect(result.stderr).toMatch(/unknown choice 'nonsense'/);
  });

  it('says to run setup when the orchestrator is not built (exit 3)', async () => {
    const repo = repoWithExample();
    const result = await wrapper(['status'], { cwd: repo.root, env: { ORCHESTRATE_JS: path.join(repo.root, 'missing.js') } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/not built yet/);
    expect(result.stderr).toMatch(/setup/);
  });
});

/**
 * A stand-in for the CLI: logs each call; `status` reports a pause ending in half a second; a run exits 75 (paused)
 * the first time and 0 after that.
 */
const FAKE_CLI = `
import { appendFileSync, readFileSync } from 'node:fs';
const log = process.env.FAKE_CLI_LOG;
const args = process.argv.slice(2);
appendFileSync(log, JSON.stringify({ args, autoResume: process.env.AUTO_RESUME ?? null }) + '\\n');
if (args[0] === 'status') {
  console.log(JSON.stringify({ pause: { until: new Date(Date.now() + 500).toISOString(), reason: 'usage limit' } }));
  process.exit(0);
}
const runs = readFileSync(log, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.args[0] !== 'status');
process.exit(runs.length === 1 ? 75 : 0);
`;

describe('run and single: auto-resume after a usage-limit pause', () => {
  function fakeCli(): { env: Record<string, string>; calls: () => Array<{ args: string[]; autoResume: string | null }> } {
    const dir = tempDir('mo-fake-cli-');
    writeFileSync(path.join(dir, 'cli.mjs'), FAKE_CLI);
    const log = path.join(dir, 'calls.ndjson');
    writeFileSync(log, '');
    return {
      env: { ORCHESTRATE_JS: path.join(dir, 'cli.mjs'), FAKE_CLI_LOG: log },
      calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)),
    };
  }

  it('run waits for the recorded reset, then resumes with the same --config and repository', async () => {
    const cwd = tempDir('mo-run-');
    const fake = fakeCli();
    const result = await wrapper(['run', '--stage', '1', '--config', 'my.json'], { cwd, env: fake.env });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/paused on a usage limit until .*; waiting [1-4]s, then resuming/);
    expect(fake.calls().map((c) => c.args)).toEqual([
      ['--stage', '1', '--config', 'my.json', '--cwd', cwd],
      ['status', '--json', '--config', 'my.json', '--cwd', cwd],
      ['--resume', '--config', 'my.json', '--cwd', cwd],
    ]);
  });

  it('single runs once with AUTO_RESUME=false and passes the pause on as exit 75', async () => {
    const cwd = tempDir('mo-single-');
    const fake = fakeCli();
    const result = await wrapper(['single', '--cwd', cwd], { cwd: tmpdir(), env: fake.env });
    expect(result.exitCode).toBe(75);
    expect(fake.calls()).toEqual([{ args: ['--cwd', cwd], autoResume: 'false' }]);
  });
});
