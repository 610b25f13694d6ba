import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SEARCH_PLACES } from '../../config/find.js';
import { inspectRepo } from '../../git/repo.js';
import { MILESTONE_FILE_PATTERN } from '../../milestones/types.js';
import { writeFileAtomic } from '../../state/atomic.js';
import type { InitOptions } from '../args.js';
import { cwdFolder } from '../cwd.js';
import { EXIT } from '../exit-codes.js';
import { PACKAGE_ROOT, type Io } from '../package.js';
import { fail } from '../print.js';
import { CONFIG_FILE, EXAMPLE_MILESTONE, INSTALLED_SCHEMA, PACKAGE_NAME, SCHEMA_COPY, detectTestCommand, planInit, type InitFacts, type InitPlan } from './init-plan.js';

/**
 * `orchestrate init`: writes orchestrator.config.json, an example milestone and (when the package is not a
 * dependency installed in the repository) a copy of the JSON Schema to commit with it, at the repository's root. Decides first (init-plan.ts), then writes;
 * a refusal writes nothing. Exit 0 written, 2 refused (files exist, another configuration), 3 unusable folder.
 */
export async function initCommand(opts: InitOptions, io: Io): Promise<number> {
  const dir = cwdFolder(opts.cwd, io, 'name the folder of the repository to set up');
  if (dir === undefined) return EXIT.usage;
  const inspected = await inspectRepo(dir);
  if (inspected.problem?.kind === 'bare') {
    io.stderr(fail(`${dir} is a bare repository`, 'run orchestrate init in a working tree (a clone with checked-out files)'));
    return EXIT.environment;
  }
  // A subfolder of a repository means its root: that is where the orchestrator looks for its configuration.
  const root = inspected.repo?.root ?? inspected.problem?.dir ?? dir;
  const plan = planInit(gatherFacts(root, opts.force));
  if (plan.kind === 'refuse') {
    io.stderr(fail(plan.message, plan.hint));
    return EXIT.usage;
  }
  try {
    await writeAll(root, plan);
  } catch (err) {
    io.stderr(fail(`could not write in ${root}: ${(err as Error).message}`, 'check that the folder is writable, then run orchestrate init again'));
    return EXIT.environment;
  }
  io.stdout(report(root, dir, plan, inspected.problem?.kind));
  return EXIT.ok;
}

function gatherFacts(root: string, force: boolean): InitFacts {
  const at = (rel: string) => path.join(root, rel);
  const existing = new Set([CONFIG_FILE, EXAMPLE_MILESTONE, SCHEMA_COPY].filter((f) => existsSync(at(f))));
  const packageJson = readJson(at('package.json'));
  const otherConfigs = SEARCH_PLACES.filter((place) => place !== CONFIG_FILE && existsSync(at(place))).filter(
    // package.json is a configuration only when it has an "orchestrator" key.
    (place) => place !== 'package.json' || (packageJson !== undefined && 'orchestrator' in packageJson),
  );
  const scripts = packageJson?.scripts as Record<string, unknown> | undefined;
  const npmTestScript = typeof scripts?.test === 'string' ? scripts.test : undefined;
  return {
    existing,
    otherConfigs,
    milestoneFiles: milestoneFilesIn(at(path.dirname(EXAMPLE_MILESTONE))),
    installedSchema: existsSync(at(INSTALLED_SCHEMA)),
    declaredDependency: ['dependencies', 'devDependencies', 'optionalDependencies'].some((kind) => {
      const deps = packageJson?.[kind];
      return deps !== null && typeof deps === 'object' && PACKAGE_NAME in deps;
    }),
    testCommand: detectTestCommand({
      ...(npmTestScript !== undefined ? { npmTestScript } : {}),
      lockfiles: ['pnpm-lock.yaml', 'yarn.lock', 'bun.lockb', 'bun.lock', 'package-lock.json'].filter((f) => existsSync(at(f))),
      hasCargoToml: existsSync(at('Cargo.toml')),
      hasGoMod: existsSync(at('go.mod')),
    }),
    exampleMilestone: readFileSync(path.join(PACKAGE_ROOT, 'templates', 'example-milestone.md'), 'utf8'),
    schema: readFileSync(path.join(PACKAGE_ROOT, 'schema', 'orchestrator.config.schema.json'), 'utf8'),
    force,
  };
}

/** `1A.md`, `2B.md` … in the folder, sorted; none when it does not exist. */
function milestoneFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => MILESTONE_FILE_PATTERN.test(f)).sort();
  } catch {
    return [];
  }
}

/** A package.json that cannot be read or parsed says nothing about tests or configuration here. */
function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function writeAll(root: string, plan: Extract<InitPlan, { kind: 'write' }>): Promise<void> {
  for (const file of plan.files) await writeFileAtomic(path.join(root, file.path), file.content);
}

const PURPOSE: Record<string, string> = {
  [CONFIG_FILE]: 'the configuration; every key is optional',
  [EXAMPLE_MILESTONE]: 'an example milestone: replace it with your first task',
  [SCHEMA_COPY]: "the JSON Schema your editor checks the configuration with; commit it with the configuration, so every clone's $schema resolves",
};

function report(root: string, cwd: string, plan: Extract<InitPlan, { kind: 'write' }>, problem: string | undefined): string {
  const lines = root === cwd ? [] : [`In ${root}:`];
  for (const file of plan.files) lines.push(`${file.replaces ? 'Replaced' : 'Wrote'} ${file.path}  (${PURPOSE[file.path] ?? ''})`);
  if (plan.skippedExample.length > 0) {
    lines.push(`No example milestone: ${path.dirname(EXAMPLE_MILESTONE)}/ already has ${plan.skippedExample.join(', ')}`);
  }
  lines.push('', 'Next:');
  if (problem === 'not_a_repo') lines.push('  git init && git add -A && git commit -m "Initial commit"   task worktrees start from a commit');
  if (problem === 'no_commits') lines.push('  git add -A && git commit -m "Initial commit"   task worktrees start from a commit');
  lines.push('  orchestrate --validate-only   check the milestones and print the plan (changes nothing)');
  lines.push('  orchestrate                   run them');
  return `${lines.join('\n')}\n`;
}
