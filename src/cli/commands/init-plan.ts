import { DEFAULT_ALLOWED_TOOLS } from '../../config/schema.js';

/**
 * `orchestrate init`, the deciding half: from what is on disk, which files to write, or why to refuse. Pure; the
 * writing is in init.ts.
 */

/** Where the editor's schema comes from (see `schemaReference`). */
export type SchemaSource =
  /**
   * The package is a dependency of the project (package.json) and installed: point into node_modules. Every clone
   * has it after its install, and it stays in step with upgrades.
   */
  | { kind: 'installed'; ref: string }
  /**
   * Otherwise a copy beside the configuration, to be committed with it, so `$schema` resolves in every clone (a
   * copy in the git-ignored state folder, as before, was missing from a fresh clone). `init` refreshes it.
   */
  | { kind: 'copy'; ref: string; path: string };

export interface InitFacts {
  /** Files the plan writes that already exist, relative to the repository root, forward slashes. */
  existing: ReadonlySet<string>;
  /** Other configuration files the orchestrator would read instead of (or besides) ours, e.g. `.orchestratorrc`. */
  otherConfigs: readonly string[];
  /**
   * Milestone files already in `milestones/` (`2A.md` …): an example beside them would join the user's plan and run
   * as a real task, so none is written.
   */
  milestoneFiles: readonly string[];
  /** Whether `node_modules/milestone-orchestrator/schema/…` exists in the repository. */
  installedSchema: boolean;
  /**
   * Whether the project's package.json lists `milestone-orchestrator` as a dependency (any kind): only then does a
   * fresh clone get node_modules/milestone-orchestrator from its install.
   */
  declaredDependency: boolean;
  /** The test command of the project, when one is plain to see (see `detectTestCommand`); null otherwise. */
  testCommand: string | null;
  /** The example milestone (templates/example-milestone.md). */
  exampleMilestone: string;
  /** The JSON Schema text (schema/orchestrator.config.schema.json). */
  schema: string;
  force: boolean;
}

export interface InitFile {
  /** Relative to the repository root, forward slashes. */
  path: string;
  content: string;
  /** True when it replaces an existing file (the config with --force, or the schema copy, which is generated). */
  replaces: boolean;
}

export type InitPlan =
  /** `skippedExample`: the milestone files that kept the example out (empty when it is written). */
  | { kind: 'write'; files: InitFile[]; schema: SchemaSource; skippedExample: string[] }
  | { kind: 'refuse'; message: string; hint: string };

export const CONFIG_FILE = 'orchestrator.config.json';
export const EXAMPLE_MILESTONE = 'milestones/1A.md';
const SCHEMA_NAME = 'orchestrator.config.schema.json';
export const PACKAGE_NAME = 'milestone-orchestrator';
export const INSTALLED_SCHEMA = `node_modules/${PACKAGE_NAME}/schema/${SCHEMA_NAME}`;
/** Beside the configuration, committed with it. */
export const SCHEMA_COPY = SCHEMA_NAME;

/** Claude Code's permission rule that lets the agent run `command` (and it with more arguments). */
function allowRule(command: string): string {
  return `Bash(${command}:*)`;
}


export function planInit(facts: InitFacts): InitPlan {
  if (facts.otherConfigs.length > 0) {
    return {
      kind: 'refuse',
      message: `this repository already has a configuration: ${facts.otherConfigs.join(', ')}`,
      hint: `edit it (the keys are in the README's Configuration section), or remove it and run orchestrate init again`,
    };
  }
  const schema: SchemaSource = facts.installedSchema && facts.declaredDependency ? { kind: 'installed', ref: `./${INSTALLED_SCHEMA}` } : { kind: 'copy', ref: `./${SCHEMA_COPY}`, path: SCHEMA_COPY };
  if (facts.existing.has(CONFIG_FILE) && !facts.force) {
    // Says every file --force would write over: the config, and the generated schema copy when there is one.
    const alsoSchema = schema.kind === 'copy' && facts.existing.has(schema.path) ? ` and rewrites the generated ${schema.path} beside it` : '';
    return { kind: 'refuse', message: `${CONFIG_FILE} already exists; nothing was written`, hint: `orchestrate init --force replaces it${alsoSchema}; milestone files are never touched` };
  }
  // A plan is there already (1A.md included): those files are the user's, never replaced, and an example beside them
  // would run as a real task.
  const withExample = facts.milestoneFiles.length === 0;
  const files: InitFile[] = [
    { path: CONFIG_FILE, content: configText(schema.ref, facts.testCommand), replaces: facts.existing.has(CONFIG_FILE) },
    ...(withExample ? [{ path: EXAMPLE_MILESTONE, content: facts.exampleMilestone, replaces: facts.existing.has(EXAMPLE_MILESTONE) }] : []),
  ];
  // The copy is generated, not the user's: refreshing it to this version's schema is always right.
  if (schema.kind === 'copy') files.push({ path: schema.path, content: facts.schema, replaces: facts.existing.has(schema.path) });
  return { kind: 'write', files, schema, skippedExample: withExample ? [] : [...facts.milestoneFiles] };
}

/** The configuration init writes: the keys a new user edits first, every other key at its default. */
export function configText(schemaRef: string, testCommand: string | null): string {
  const config = {
    $schema: schemaRef,
    milestones_dir: 'milestones',
    max_parallel_tasks: 2,
    checks: { commands: testCommand ? [testCommand] : [] },
    agent: { allowed_tools: testCommand ? [...DEFAULT_ALLOWED_TOOLS, allowRule(testCommand)] : [...DEFAULT_ALLOWED_TOOLS] },
    review: { enabled: true, max_rounds: 3 },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** What a project's own files say about how it is tested. */
export interface ProjectFiles {
  /** package.json's `scripts.test`, if any. */
  npmTestScript?: string;
  /** Which lockfiles exist: pnpm-lock.yaml, yarn.lock … */
  lockfiles: readonly string[];
  hasCargoToml: boolean;
  hasGoMod: boolean;
}

/** npm's placeholder `test` script, which only fails. */
const NPM_PLACEHOLDER = /no test specified/;

/**
 * The command that runs the project's tests when the project's own files name it plainly: an npm `test` script (run
 * with the package manager its lockfile shows), Cargo or Go modules. Null when there is none to see, rather than a
 * guess that would fail every task's checks.
 */
export function detectTestCommand(project: ProjectFiles): string | null {
  if (project.npmTestScript && !NPM_PLACEHOLDER.test(project.npmTestScript)) {
    if (project.lockfiles.includes('pnpm-lock.yaml')) return 'pnpm test';
    if (project.lockfiles.includes('yarn.lock')) return 'yarn test';
    if (project.lockfiles.includes('bun.lockb') || project.lockfiles.includes('bun.lock')) return 'bun run test';
    return 'npm test';
  }
  if (project.hasCargoToml) return 'cargo test';
  if (project.hasGoMod) return 'go test ./...';
  return null;
}
