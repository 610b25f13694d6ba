import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { detectTestCommand, planInit, type InitFacts } from '../../src/cli/commands/init-plan.js';
import { runCli } from '../support/cli.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCHEMA = readFileSync(path.join(ROOT, 'schema', 'orchestrator.config.schema.json'), 'utf8');

let repo: TempRepo | undefined;
let plain: string | undefined;
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
  if (plain) rmSync(plain, { recursive: true, force: true });
  plain = undefined;
});

const read = (root: string, file: string) => readFileSync(path.join(root, file), 'utf8');

/** The config's $schema resolved as an editor does: relative to the config file. */
function schemaOf(root: string): { ref: string; file: string } {
  const config = JSON.parse(read(root, 'orchestrator.config.json')) as { $schema: string };
  return { ref: config.$schema, file: path.resolve(root, config.$schema) };
}

describe('orchestrate init', () => {
  it('writes a configuration that validates against its own $schema and an example milestone that validates cleanly', async () => {
    repo = makeRepo();
    repo.write('package.json', JSON.stringify({ name: 'x', scripts: { test: 'node --test' } }));
    repo.commit('package');
    const result = await runCli(['init'], { cwd: repo.root });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Wrote orchestrator\.config\.json/);
    expect(result.stdout).toMatch(/Wrote milestones\/1A\.md/);
    expect(result.stdout).toMatch(/orchestrate --validate-only/);

    const { ref, file } = schemaOf(repo.root);
    expect(ref).toBe('./orchestrator.config.schema.json');
    expect(readFileSync(file, 'utf8')).toBe(SCHEMA);
    // The editor's view: the schema file itself accepts the configuration (and is strict enough to refuse a typo).
    const validator = z.fromJSONSchema(JSON.parse(readFileSync(file, 'utf8')) as z.core.JSONSchema.JSONSchema);
    const config: unknown = JSON.parse(read(repo.root, 'orchestrator.config.json'));
    expect(validator.safeParse(config).success).toBe(true);
    expect(validator.safeParse({ ...(config as object), max_paralel_tasks: 2 }).success).toBe(false);
    expect(config).toMatchObject({ checks: { commands: ['npm test'] }, agent: { allowed_tools: expect.arrayContaining(['Bash(npm test:*)', 'Bash(git commit:*)']) } });

    // The tool's view: no error, no warning, one task.
    const validate = await runCli(['--validate-only'], { cwd: repo.root });
    expect(validate.stderr).toBe('');
    expect(validate.exitCode).toBe(0);
    expect(validate.stdout).toMatch(/Stage 1 · 1 task/);
    // The schema copy is committed with the configuration: a fresh clone's $schema resolves (README's promise).
    expect(repo.git('status', '--porcelain', '--untracked-files=all').split('\n').sort()).toEqual(['?? milestones/1A.md', '?? orchestrator.config.json', '?? orchestrator.config.schema.json']);
    repo.git('add', '-A');
    repo.git('commit', '-qm', 'orchestrator set-up');
    plain = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-clone-')));
    execFileSync('git', ['clone', '-q', repo.root, path.join(plain, 'clone')]);
    const cloned = schemaOf(path.join(plain, 'clone'));
    expect(readFileSync(cloned.file, 'utf8')).toBe(SCHEMA);
  });

  it('refuses to replace the configuration without --force, writing nothing; --force replaces only it', async () => {
    repo = makeRepo();
    repo.write('orchestrator.config.json', '{ "max_parallel_tasks": 1 }\n');
    const refused = await runCli(['init'], { cwd: repo.root });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/orchestrator\.config\.json already exists; nothing was written/);
    expect(refused.stderr).toMatch(/hint: orchestrate init --force/);
    expect(read(repo.root, 'orchestrator.config.json')).toBe('{ "max_parallel_tasks": 1 }\n');
    expect(existsSync(path.join(repo.root, 'milestones'))).toBe(false);
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);

    const forced = await runCli(['init', '--force'], { cwd: repo.root });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(/Replaced orchestrator\.config\.json/);
    expect(forced.stdout).toMatch(/Wrote milestones\/1A\.md/);
    expect(JSON.parse(read(repo.root, 'orchestrator.config.json'))).toMatchObject({ max_parallel_tasks: 2 });
  });

  it('adds no example to a plan that exists, and never touches its files, --force or not', async () => {
    repo = makeRepo();
    repo.write('milestones/1A.md', '# mine\n');
    repo.write('milestones/2B.md', '# also mine\n');
    const result = await runCli(['init', '--force'], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Wrote orchestrator\.config\.json/);
    expect(result.stdout).toMatch(/No example milestone: milestones\/ already has 1A\.md, 2B\.md/);
    expect(result.stdout).not.toMatch(/milestones\/1A\.md {2}\(/);
    expect(read(repo.root, 'milestones/1A.md')).toBe('# mine\n');
    expect(read(repo.root, 'milestones/2B.md')).toBe('# also mine\n');
  });

  it('refuses when another configuration file exists, even with --force', async () => {
    repo = makeRepo();
    repo.write('package.json', JSON.stringify({ name: 'x', orchestrator: { max_parallel_tasks: 1 } }));
    const result = await runCli(['init', '--force'], { cwd: repo.root });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/already has a configuration: package\.json/);
    expect(existsSync(path.join(repo.root, 'orchestrator.config.json'))).toBe(false);
  });

  it('sets up the repository root from a subfolder, and points $schema into node_modules when the package is a dependency there', async () => {
    repo = makeRepo();
    repo.write('package.json', JSON.stringify({ name: 'x', devDependencies: { 'milestone-orchestrator': '^0.1.0' } }));
    const installed = path.join(repo.root, 'node_modules', 'milestone-orchestrator', 'schema');
    mkdirSync(installed, { recursive: true });
    cpSync(path.join(ROOT, 'schema', 'orchestrator.config.schema.json'), path.join(installed, 'orchestrator.config.schema.json'));
    mkdirSync(path.join(repo.root, 'src', 'deep'), { recursive: true });
    const result = await runCli(['init'], { cwd: path.join(repo.root, 'src', 'deep') });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`In ${repo.root}:`);
    const { ref, file } = schemaOf(repo.root);
    expect(ref).toBe('./node_modules/milestone-orchestrator/schema/orchestrator.config.schema.json');
    expect(existsSync(file)).toBe(true);
    expect(existsSync(path.join(repo.root, '.orchestrator'))).toBe(false);
    expect(existsSync(path.join(repo.root, 'orchestrator.config.schema.json'))).toBe(false);
    expect(JSON.parse(read(repo.root, 'orchestrator.config.json'))).toMatchObject({ checks: { commands: [] } });
  });

  it('installed in node_modules but not a dependency in package.json: a clone would not have it, so the committed copy', async () => {
    repo = makeRepo();
    const installed = path.join(repo.root, 'node_modules', 'milestone-orchestrator', 'schema');
    mkdirSync(installed, { recursive: true });
    cpSync(path.join(ROOT, 'schema', 'orchestrator.config.schema.json'), path.join(installed, 'orchestrator.config.schema.json'));
    expect((await runCli(['init'], { cwd: repo.root })).exitCode).toBe(0);
    expect(schemaOf(repo.root).ref).toBe('./orchestrator.config.schema.json');
    expect(read(repo.root, 'orchestrator.config.schema.json')).toBe(SCHEMA);
  });

  it('in a folder that is not a repository yet: says to commit first, and its hint keeps the state folder out', async () => {
    plain = realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-init-')));
    const result = await runCli(['init'], { cwd: plain });
    expect(result.exitCode).toBe(0);
    const hint = /\n {2}(git init && git add -A && git commit -m "Initial commit")/.exec(result.stdout);
    expect(hint).not.toBeNull();
    const git = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' };
    execFileSync('sh', ['-c', hint![1]!], { cwd: plain, env: { ...process.env, ...git }, stdio: 'pipe' });
    const tracked = execFileSync('git', ['ls-files'], { cwd: plain, encoding: 'utf8' }).trim().split('\n').sort();
    expect(tracked).toEqual(['milestones/1A.md', 'orchestrator.config.json', 'orchestrator.config.schema.json']);
    const validate = await runCli(['--validate-only'], { cwd: plain });
    expect(validate).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('refuses a missing --cwd folder as a usage error', async () => {
    const result = await runCli(['init', '--cwd', '/nonexistent/folder'], { cwd: tmpdir() });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--cwd \/nonexistent\/folder: no such directory/);
  });
});

describe('planInit', () => {
  const facts = (over: Partial<InitFacts> = {}): InitFacts => ({ existing: new Set(), otherConfigs: [], milestoneFiles: [], installedSchema: false, declaredDependency: false, testCommand: null, exampleMilestone: '# M\n', schema: '{}', force: false, ...over });

  it('writes the config, the milestone and the schema copy beside the config into an empty repository', () => {
    const plan = planInit(facts());
    expect(plan.kind === 'write' && plan.files.map((f) => f.path)).toEqual(['orchestrator.config.json', 'milestones/1A.md', 'orchestrator.config.schema.json']);
  });

  it('refreshes the schema copy, which is generated; points into node_modules only for a declared, installed dependency', () => {
    const plan = planInit(facts({ existing: new Set(['orchestrator.config.schema.json']) }));
    expect(plan.kind).toBe('write');
    if (plan.kind !== 'write') return;
    expect(plan.files.map((f) => [f.path, f.replaces])).toEqual([
      ['orchestrator.config.json', false],
      ['milestones/1A.md', false],
      ['orchestrator.config.schema.json', true],
    ]);
    expect(planInit(facts({ installedSchema: true }))).toMatchObject({ schema: { kind: 'copy' } });
    expect(planInit(facts({ declaredDependency: true }))).toMatchObject({ schema: { kind: 'copy' } });
    expect(planInit(facts({ installedSchema: true, declaredDependency: true }))).toMatchObject({ schema: { kind: 'installed', ref: './node_modules/milestone-orchestrator/schema/orchestrator.config.schema.json' } });
  });

  it('refuses an existing config without --force; leaves a plan that exists without an example', () => {
    expect(planInit(facts({ existing: new Set(['orchestrator.config.json']) }))).toMatchObject({ kind: 'refuse', message: 'orchestrator.config.json already exists; nothing was written' });
    // The hint names every file --force writes over: the generated schema copy too, when there is one to rewrite.
    expect(planInit(facts({ existing: new Set(['orchestrator.config.json']) }))).toMatchObject({ hint: 'orchestrate init --force replaces it; milestone files are never touched' });
    expect(planInit(facts({ existing: new Set(['orchestrator.config.json', 'orchestrator.config.schema.json']) }))).toMatchObject({
      hint: 'orchestrate init --force replaces it and rewrites the generated orchestrator.config.schema.json beside it; milestone files are never touched',
    });
    const forced = planInit(facts({ force: true, existing: new Set(['orchestrator.config.json', 'orchestrator.config.schema.json']) }));
    expect(forced.kind === 'write' && forced.files.filter((f) => f.replaces).map((f) => f.path)).toEqual(['orchestrator.config.json', 'orchestrator.config.schema.json']);
    const plan = planInit(facts({ milestoneFiles: ['1A.md'], existing: new Set(['milestones/1A.md']) }));
    expect(plan.kind === 'write' && plan.files.map((f) => f.path)).toEqual(['orchestrator.config.json', 'orchestrator.config.schema.json']);
    expect(plan.kind === 'write' && plan.skippedExample).toEqual(['1A.md']);
  });
});

describe('detectTestCommand', () => {
  const none = { lockfiles: [], hasCargoToml: false, hasGoMod: false };
  it.each([
    [{ ...none, npmTestScript: 'vitest run' }, 'npm test'],
    [{ ...none, npmTestScript: 'vitest run', lockfiles: ['pnpm-lock.yaml'] }, 'pnpm test'],
    [{ ...none, npmTestScript: 'jest', lockfiles: ['yarn.lock'] }, 'yarn test'],
    [{ ...none, npmTestScript: 'echo "Error: no test specified" && exit 1' }, null],
    [{ ...none, hasCargoToml: true }, 'cargo test'],
    [{ ...none, hasGoMod: true }, 'go test ./...'],
    [none, null],
  ])('%o -> %s', (project, expected) => {
    expect(detectTestCommand(project)).toBe(expected);
  });
});
