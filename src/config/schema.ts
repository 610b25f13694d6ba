import { z } from 'zod';
import {
  branchPrefix,
  cliValueList,
  commandLine,
  duration,
  logLevel,
  nonEmptyString,
  nonNegativeNumber,
  nullableCliValue,
  nullablePositiveNumber,
  nullableString,
  nullableWholeNumber,
  positiveNumber,
  repoRelativePathList,
  stringList,
  stringMap,
  wholeNumber,
} from './fields.js';

/**
 * The one definition of the configuration: validation, defaults, normalisation, the `Config` type and the
 * published JSON Schema all come from here. Objects are strict so typos surface as "unknown key" errors.
 * Nested sections use `prefault({})` (not `default`) so their own field defaults are filled in; list and
 * map defaults are factories so no two configs share (and mutate) one array.
 */

export const DEFAULT_ALLOWED_TOOLS = [
  'Bash(git add:*)',
  'Bash(git commit:*)',
  'Bash(git status:*)',
  'Bash(git diff:*)',
  'Bash(git log:*)',
];

/**
 * Credential files and folders the agents' sandboxed shell cannot read (`agent.sandbox.deny_read`): SSH and GPG
 * keys, cloud and cluster credentials, registry and git tokens, and Claude Code's own login.
 */
export const DEFAULT_SANDBOX_DENY_READ = [
  '~/.ssh',
  '~/.gnupg',
  '~/.aws',
  '~/.azure',
  '~/.config/gcloud',
  '~/.kube',
  '~/.docker',
  '~/.config/gh',
  '~/.git-credentials',
  '~/.netrc',
  '~/.npmrc',
  '~/.pypirc',
  '~/.cargo/credentials.toml',
  '~/.claude/.credentials.json',
];

/** Secrets in the environment that the agents' sandboxed shell does not see (`agent.sandbox.deny_env`). */
export const DEFAULT_SANDBOX_DENY_ENV = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'NPM_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];

export const PERMISSION_MODES = ['acceptEdits', 'auto', 'bypassPermissions', 'default', 'dontAsk', 'plan'] as const;

const logging = z
  .strictObject({
    level: logLevel().default('info').describe('Log level: debug, info, warn or error (upper case accepted).'),
    log_dir: nullableString()
      .default(null)
      .describe(
        'Directory for the log, the agent transcripts and metrics.json, relative to the repository root or absolute. ' +
          'null (the default): outside the repository, in ${XDG_CACHE_HOME:-~/.cache}/milestone-orchestrator/<repo>-<hash>/logs.',
      ),
  })
  .prefault({})
  .describe('Logging.');

const worktrees = z
  .strictObject({
    dir: nullableString()
      .default(null)
      .describe(
        'Directory that holds one git worktree per task, relative to the repository root or absolute. null (the default): ' +
          'outside the repository, in ${XDG_CACHE_HOME:-~/.cache}/milestone-orchestrator/<repo>-<hash>/worktrees, where test ' +
          'runners, linters and editors of the repository do not see them; ".worktree" keeps them inside it.',
      ),
    branch_prefix: branchPrefix()
      .default('milestone/')
      .describe('Prefix of the branch created for each task, e.g. "milestone/" gives "milestone/1A".'),
    setup: stringList()
      .default(() => [])
      .describe('Shell commands run in each new worktree before the agent starts, e.g. "npm ci".'),
    copy_files: repoRelativePathList()
      .default(() => [])
      .describe('Paths relative to the repository root copied into each new worktree, e.g. ".env".'),
    provision: z
      .enum(['auto', 'reflink', 'hardlink', 'off'])
      .default('auto')
      .describe(
        "Give each new worktree the main checkout's node_modules when its lockfile is identical, instead of installing: " +
          '"auto" clones it copy-on-write where the filesystem can (btrfs, XFS, APFS), else copies it (full disk cost, ' +
          'only when that leaves resources.min_free_disk_mb free); "reflink" only clones; "hardlink" hard-links it (no disk, ' +
          "but the files are shared: a write in place changes the main checkout's copy too); \"off\" never. " +
          'Set-up commands that only install dependencies (npm ci, npm install, pnpm install, yarn) are then skipped.',
      ),
  })
  .prefault({})
  .describe('Git worktrees the tasks run in.');

const git = z
  .strictObject({
    target_branch: nullableString()
      .default(null)
      .describe('Branch that finished stages are merged into; null means the branch checked out when the run starts.'),
    require_changes: z
      .boolean()
      .default(true)
      .describe('A task whose agent changed nothing is not done.'),
    hooks: z
      .boolean()
      .default(true)
      .describe(
        "Run the repository's pre-commit and commit-msg hooks when committing an agent's work; a hook that fails is " +
          'treated like a failed check (its output goes back to the agent). false skips them (the run says so once).',
      ),
  })
  .prefault({})
  .describe('Git behaviour.');

const sandboxEnabled = z
  .union([z.literal('auto'), z.boolean()], { error: 'expected "auto", true or false' })
  .describe('"auto": on wherever the platform has a sandbox (Linux/WSL2 with bubblewrap and socat, macOS); true: required; false: off.');

const sandboxObject = z.strictObject({
  enabled: sandboxEnabled.default('auto'),
  allowed_domains: stringList()
    .default(() => [])
    .describe('Hosts sandboxed commands may reach, e.g. "registry.npmjs.org", "*.example.com"; everything else is blocked.'),
  deny_read: stringList()
    .default(() => [...DEFAULT_SANDBOX_DENY_READ])
    .describe('Files and folders sandboxed commands cannot read ("~" is the home folder). A list given replaces the default one.'),
  deny_env: stringList()
    .default(() => [...DEFAULT_SANDBOX_DENY_ENV])
    .describe('Environment variables sandboxed commands do not see. A list given replaces the default one.'),
  checks: z
    .boolean()
    .default(true)
    .describe(
      'true: checks and the hooks of agents\' commits run in bubblewrap (Linux, WSL2): worktree writable, HOME read-only, no network. ' +
        'false: they run as you (for checks or hooks that must write under HOME or reach the network); setup then runs as you too.',
    ),
  setup: z
    .boolean()
    .default(false)
    .describe(
      'true: set-up commands (worktrees.setup, front matter setup) also run in bubblewrap, as checks do, but with the network ' +
        '(installs need registries); HOME stays read-only, so a package cache under it must be pointed elsewhere. false: they run as you.',
    ),
});

/** `"auto"`, `true` or `false` are short for `{ enabled: … }` with the default lists. */
const sandbox = z
  .union([sandboxEnabled.transform((enabled) => sandboxObject.parse({ enabled })), sandboxObject], {
    error: 'expected "auto", true, false, or an object with enabled ("auto"/true/false), lists of strings allowed_domains, deny_read, deny_env, and checks and setup (true/false)',
  })
  .default(() => sandboxObject.parse({}))
  .describe(
    "Run every agent's shell commands in Claude Code's OS-level sandbox: allowed without prompts, writes only in the task's worktree, " +
      'no network except allowed_domains, credential folders unreadable. "auto", true, false, or an object.',
  );

const agent = z
  .strictObject({
    kind: z.enum(['claude']).default('claude').describe('Which coding agent runs the tasks.'),
    command: commandLine()
      .default(null)
      .describe(
        'Agent executable and leading arguments: a string (split on spaces) or a list. ' +
          "Null means `claude` on PATH, then the project's own node_modules/.bin/claude.",
      ),
    permission_mode: z
      .enum(PERMISSION_MODES)
      .default('acceptEdits')
      .describe("Claude Code's --permission-mode for task agents."),
    allowed_tools: cliValueList('a tool name')
      .default(() => [...DEFAULT_ALLOWED_TOOLS])
      .describe("Tools the agent may use without asking (Claude Code's --allowedTools)."),
    disallowed_tools: cliValueList('a tool name')
      .default(() => [])
      .describe("Tools the agent may not use (Claude Code's --disallowedTools)."),
    model: nullableCliValue('a model name').default(null).describe("Model for task agents; null uses the agent's default."),
    max_turns: nullableWholeNumber(1).default(null).describe('Maximum agent turns per task; null means no limit.'),
    append_system_prompt: nullableString().default(null).describe("Text appended to the agent's system prompt."),
    prompt_template: nullableString()
      .default(null)
      .describe('Path to a task prompt template file, relative to the repository root; null uses the built-in one.'),
    timeout: duration()
      .default(3600)
      .describe('Time limit per task: seconds, or a duration like "60m".'),
    idle_timeout: duration()
      .default(600)
      .describe(
        'An agent that shows no sign of life for this long is considered stuck and stopped: no output, no CPU used by its ' +
          'processes (Linux), no file changed in its worktree. Seconds, or a duration like "10m".',
      ),
    extra_args: stringList()
      .default(() => [])
      .describe("Extra arguments appended to the agent CLI's arguments."),
    env: stringMap()
      .default(() => ({}))
      .describe('Extra environment variables for the agent process.'),
    sandbox,
  })
  .prefault({})
  .describe('The coding agent that implements each milestone.');

const checks = z
  .strictObject({
    commands: stringList()
      .default(() => [])
      .describe('Shell commands that must succeed in a task worktree before the task counts as done, e.g. "npm test".'),
    timeout: duration().default(600).describe('Time limit per check command: seconds, or a duration like "10m".'),
  })
  .prefault({})
  .describe('Checks run after each task.');

const review = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Review each task with a second agent run.'),
    max_rounds: wholeNumber(0).default(3).describe('Maximum review-and-fix rounds per task.'),
    model: nullableCliValue('a model name').default(null).describe("Model for the reviewer; null uses the agent's default."),
    prompt_template: nullableString()
      .default(null)
      .describe('Path to a review prompt template file, relative to the repository root; null uses the built-in one.'),
  })
  .prefault({})
  .describe('Automated code review.');

const budget = z
  .strictObject({
    max_usd_per_task: nullablePositiveNumber().default(null).describe('Stop a task that has cost more than this (USD).'),
    max_usd_total: nullablePositiveNumber().default(null).describe('Stop the run once it has cost more than this (USD).'),
  })
  .prefault({})
  .describe('Spending limits; null means no limit.');

const resources = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Hold back new tasks while the machine is overloaded.'),
    max_load_per_cpu: positiveNumber().default(1.5).describe('Load average per CPU above which no new task starts.'),
    min_free_memory_mb: nonNegativeNumber().default(512).describe('Free memory (MB) below which no new task starts.'),
    min_free_disk_mb: nonNegativeNumber().default(1024).describe('Free disk space (MB) below which no new task starts.'),
    sample_interval_ms: wholeNumber(100).default(2000).describe('How often resources are sampled (milliseconds).'),
  })
  .prefault({})
  .describe('System resource guard.');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors; ignored.'),
    milestones_dir: nonEmptyString()
      .default('milestones')
      .describe('Directory holding the milestone files, relative to the repository root.'),
    max_parallel_tasks: wholeNumber(1).default(4).describe('Maximum tasks run at the same time.'),
    claude_rate_limit_wait: nonNegativeNumber()
      .default(300)
      .describe('Seconds to wait when rate limited and the limit gives no reset time.'),
    auto_resume: z
      .boolean()
      .default(true)
      .describe('On a usage limit, wait and continue instead of saving state and exiting.'),
    retry_attempts: wholeNumber(0).default(10).describe('Maximum retries of a task after a transient failure.'),
    on_failure: z
      .enum(['stop', 'continue'])
      .default('stop')
      .describe('"stop": a stage with failed tasks stops the run; "continue": later stages still run.'),
    logging,
    state_dir: nonEmptyString()
      .default('.orchestrator')
      .describe('Where run state and the lock live, relative to the repository root.'),
    worktrees,
    git,
    agent,
    checks,
    review,
    budget,
    resources,
  })
  .describe('milestone-orchestrator configuration.');

/** Fully defaulted and normalised: durations are seconds, log level is lower case, `agent.command` a list or null. */
export type Config = z.output<typeof configSchema>;

export function defaultConfig(): Config {
  return configSchema.parse({});
}
