import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

/**
 * The package as a user gets it: `npm pack`, then `npm install -g` of the tarball into a temporary prefix, then the
 * `orchestrate` link npm made in <prefix>/bin. Dependencies come from npm's cache (the registry only when the cache
 * lacks them). The global setup has built dist/ already, so packing skips the prepack build.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

interface PackedFile {
  path: string;
}

let work: string;
let tarball: string;
let files: string[];
let bin: string;
let repo: TempRepo | undefined;

/** npm with nothing from the test runner's own npm invocation (npm_config_*) leaking into it. */
function npmEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  for (const name of Object.keys(env)) if (/^npm_config_(prefix|global|location|dry_run|ignore_scripts)$/i.test(name)) env[name] = undefined;
  return env;
}

async function orchestrate(args: string[], cwd: string) {
  const result = await execa(bin, args, { cwd, reject: false, stdin: 'ignore', env: { CI: 'true', LOG_LEVEL: undefined, ORCHESTRATOR_CONFIG: undefined }, timeout: 60_000 });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

beforeAll(async () => {
  work = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-install-')));
  const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env: npmEnv() });
  const [info] = JSON.parse(String(packed.stdout)) as [{ filename: string; files: PackedFile[] }];
  tarball = path.join(work, info.filename);
  files = info.files.map((f) => f.path).sort();
  const prefix = path.join(work, 'prefix');
  await execa('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: work, env: npmEnv(), timeout: 170_000 });
  bin = path.join(prefix, 'bin', 'orchestrate');
}, 180_000);

afterAll(() => {
  repo?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the licence, the README and what the command needs, and no source maps, demo or dev tooling', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/cli/bin.js', 'dist/cli/main.js', 'schema/orchestrator.config.schema.json', 'templates/task-prompt.md', 'templates/review-prompt.md', 'templates/conflict-prompt.md']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => /^dist\/(demo|scripted-api)\//.test(f) || f.startsWith('src/') || f.startsWith('tests/'))).toEqual([]);
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} milestone-orchestrator contributors/);
  });

  it('leaves out nothing the shipped code imports', () => {
    const shipped = new Set(files);
    const missing: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const code = readFileSync(path.join(ROOT, file), 'utf8');
      for (const [, spec] of code.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec!));
        if (!shipped.has(target)) missing.push(`${file} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('orchestrate installed from the tarball, through npm\'s bin link', () => {
  it('is a link into the installed package', () => {
    expect(lstatSync(bin).isSymbolicLink()).toBe(true);
    expect(realpathSync(bin)).toBe(realpathSync(path.join(work, 'prefix', 'lib', 'node_modules', PACKAGE.name, 'dist', 'cli', 'bin.js')));
  });

  it('prints its version and its help', async () => {
    const version = await orchestrate(['--version'], work);
    expect(version).toMatchObject({ exitCode: 0, stderr: '' });
    expect(version.stdout.trim()).toBe(PACKAGE.version);
    const help = await orchestrate(['--help'], work);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: orchestrate/);
  });

  it('refuses an unknown flag with exit 2 and a hint', async () => {
    const result = await orchestrate(['--bogus'], work);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--bogus'/);
    expect(result.stderr).toMatch(/orchestrate --help/);
  });

  it('validates a repository with milestones and prints the plan', async () => {
    repo = makeRepo();
    cpSync(path.join(ROOT, 'milestones'), path.join(repo.root, 'milestones'), { recursive: true });
    repo.commit('add milestones');
    const result = await orchestrate(['--validate-only'], repo.root);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Stage 1 · 2 tasks/);
    expect(result.stdout).toMatch(/Critical path/);
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);
  });

  it('sets up a repository with init, from the files the package ships, and the result validates', async () => {
    const fresh = makeRepo();
    try {
      const init = await orchestrate(['init'], fresh.root);
      expect(init).toMatchObject({ exitCode: 0, stderr: '' });
      const config = JSON.parse(readFileSync(path.join(fresh.root, 'orchestrator.config.json'), 'utf8')) as { $schema: string };
      expect(readFileSync(path.resolve(fresh.root, config.$schema), 'utf8')).toBe(readFileSync(path.join(ROOT, 'schema', 'orchestrator.config.schema.json'), 'utf8'));
      const validate = await orchestrate(['--validate-only'], fresh.root);
      expect(validate).toMatchObject({ exitCode: 0, stderr: '' });
      expect(validate.stdout).toMatch(/Stage 1 · 1 task/);
    } finally {
      fresh.cleanup();
    }
  });
});
