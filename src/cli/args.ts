import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MILESTONE_ID_PATTERN } from '../milestones/types.js';
import { closest } from '../util/did-you-mean.js';
import type { Verbosity } from './output.js';

/** `orchestrate [flags]`: the default command. */
export interface RunOptions {
  command: 'run';
  stages: number[];
  milestones: string[];
  resume: boolean;
  validateOnly: boolean;
  /**
   * A run: NDJSON events on stdout instead of the live view or log lines (see ndjson.ts). With `validateOnly`: the
   * plan as one JSON document (plan/plan-document.ts).
   */
  json: boolean;
  /** How much reaches the terminal: `--quiet`, `--verbose` (see output.ts's Verbosity); absent: normal. */
  verbosity?: Verbosity;
  config?: string;
  cwd: string;
}

/** `orchestrate status`: what the last run did and which worktrees are on disk. Read-only. */
export interface StatusOptions {
  command: 'status';
  json: boolean;
  config?: string;
  cwd: string;
}

/** `merged`: only worktrees whose branch is merged into the target; `all`: every orchestrator worktree and branch. */
export type CleanMode = 'merged' | 'all';

/** `orchestrate clean`: removes the orchestrator's worktrees (and with `all`, its branches). */
export interface CleanOptions {
  command: 'clean';
  mode: CleanMode;
  force: boolean;
  config?: string;
  cwd: string;
}

/** `orchestrate accept <id>` / `orchestrate retry <id>`: act on a task of the last run that needs attention or failed. */
export interface TaskActionOptions {
  command: 'accept' | 'retry';
  /** As typed; matched case-insensitively against the run's task ids. */
  id: string;
  config?: string;
  cwd: string;
}

/** `orchestrate init`: writes a configuration and an example milestone; never replaces a file unless `force`. */
export interface InitOptions {
  command: 'init';
  force: boolean;
  cwd: string;
}

export type CommandOptions = RunOptions | StatusOptions | CleanOptions | TaskActionOptions | InitOptions;

export type ParsedArgs =
  | { kind: 'options'; options: CommandOptions }
  | { kind: 'exit'; code: number; stdout?: string; stderr?: string };

const SUBCOMMANDS = ['init', 'status', 'clean', 'accept', 'retry'] as const;

/** The flags that only make sense for a run: given before a subcommand they would be silently ignored. */
const RUN_ONLY_FLAGS: ReadonlyArray<[attribute: string, flag: string]> = [
  ['stage', '--stage'],
  ['milestone', '--milestone'],
  ['resume', '--resume'],
  ['validateOnly', '--validate-only'],
  ['json', '--json'],
  ['quiet', '--quiet'],
  ['verbose', '--verbose'],
];

/**
 * `helpCommand`: the command the user typed, when a wrapper ran orchestrate for them (scripts/orchestrator.sh sets
 * ORCHESTRATE_HELP_COMMAND to e.g. "./orchestrator.sh run"): a usage error then points at that command's --help,
 * which the user can type, not at `orchestrate --help`.
 */
export function parseArgs(argv: readonly string[], version: string, cwd: string, helpCommand?: string): ParsedArgs {
  const out = { stdout: '', stderr: '' };
  let parsed: CommandOptions | undefined;
  const program = buildProgram(version, out, cwd, (options) => (parsed = options));
  // Which subcommand an error belongs to, so the hint names the right --help.
  let helpFor = 'orchestrate';
  program.hook('preSubcommand', (_program, sub) => {
    helpFor = `orchestrate ${sub.name()}`;
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const helpish = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      const hint = helpish ? '' : `Run '${helpCommand?.trim() || helpFor} --help' for the options.\n`;
      return { kind: 'exit', code: helpish ? 0 : 2, stdout: out.stdout, stderr: out.stderr + hint };
    }
    throw err;
  }
  if (!parsed) return { kind: 'exit', code: 2, stderr: `${out.stderr}error: nothing to do\n` };
  if (parsed.command === 'run' && parsed.resume && (parsed.stages.length > 0 || parsed.milestones.length > 0)) {
    return { kind: 'exit', code: 2, stderr: `error: --resume continues the last run as it was; it cannot be combined with --stage or --milestone\n` };
  }
  return { kind: 'options', options: parsed };
}

function buildProgram(version: string, out: { stdout: string; stderr: string }, cwd: string, done: (o: CommandOptions) => void): Command {
  const program = new Command('orchestrate')
    .description('Run AI coding agents over milestones/*.md in parallel git worktrees, then review and merge their work.')
    .version(version, '-V, --version')
    // Options after a subcommand belong to it, so `status --cwd x` is the subcommand's --cwd, not the run's.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => (out.stdout += s),
      writeErr: (s) => (out.stderr += s),
      outputError: (s) => (out.stderr += s),
    });
  // Subcommands copy the settings above when created, so they come before the run's own options and action.
  addInit(program, done, cwd);
  addStatus(program, done, cwd);
  addClean(program, done, cwd);
  addTaskAction(program, done, cwd, 'accept');
  addTaskAction(program, done, cwd, 'retry');
  // Commander offers `help <command>` by itself only when the program has no action of its own; the run is one.
  program.helpCommand('help [command]', 'show help for a command');
  program
    .addOption(new Option('--stage <n>', 'run only this stage (repeatable)').argParser(collectStage).default([]))
    .addOption(new Option('--milestone <id>', 'run only this milestone, e.g. 1A (repeatable)').argParser(collectMilestone).default([]))
    .option('--resume', 'continue the last run where it stopped', false)
    .option('--validate-only', 'check milestones and configuration, print the plan, change nothing', false)
    .option('--json', 'print the run as NDJSON events on stdout, one per line (log lines and the summary go to stderr); with --validate-only, the plan as one JSON document', false)
    .addOption(new Option('-q, --quiet', 'print only warnings, errors and the final summary (no live view)').default(false).conflicts('verbose'))
    .addOption(new Option('-v, --verbose', 'print every log line down to debug, per-task detail included (the log file too)').default(false))
    .option('--config <file>', 'configuration file (default: orchestrator.config.json or another usual place)')
    .option('--cwd <dir>', 'repository to work on (default: the current directory)')
    // Stray words reach the action so a mistyped subcommand gets "unknown command" and a suggestion.
    .allowExcessArguments(true)
    .action((opts: { stage: number[]; milestone: string[]; resume: boolean; validateOnly: boolean; json: boolean; quiet: boolean; verbose: boolean; config?: string; cwd?: string }) => {
      const stray = program.args[0];
      if (stray !== undefined) program.error(unknownCommand(stray), { code: 'commander.unknownCommand', exitCode: 2 });
      done({
        command: 'run',
        stages: opts.stage,
        milestones: opts.milestone,
        resume: opts.resume,
        validateOnly: opts.validateOnly,
        json: opts.json,
        verbosity: opts.quiet ? 'quiet' : opts.verbose ? 'verbose' : 'normal',
        ...(opts.config ? { config: opts.config } : {}),
        cwd: opts.cwd ?? cwd,
      });
    });
  program.addHelpText('after', RUN_HELP);
  return program;
}

/** After the options: what people look for next. Every example works as written inside a repository. */
const RUN_HELP = `
With no command, orchestrate runs the milestones (the options above).

Examples:
  orchestrate init                          write orchestrator.config.json and an example milestones/1A.md
  orchestrate --validate-only               check milestones/*.md and the configuration, print the plan
  orchestrate --validate-only --json        the plan as one JSON document, for tools
  orchestrate                               run every stage
  orchestrate --stage 1 --milestone 2A      run only stage 1 and milestone 2A
  orchestrate --resume                      continue after a stop, a crash or Ctrl-C
  orchestrate --quiet                       only warnings, errors and the final summary
  orchestrate --json > events.ndjson        the run as NDJSON events, one per line
  orchestrate status                        what the last run did; worktrees on disk
  orchestrate accept 1B                     merge task 1B after you fixed it by hand
  orchestrate retry 1B                      run task 1B again
  orchestrate clean --merged                remove worktrees whose branch is merged

Environment:
  ORCHESTRATOR_CONFIG   configuration file, like --config (which wins)
  LOG_LEVEL             debug, info, warn or error: overrides logging.level
  AUTO_RESUME           true/false: overrides auto_resume (wait out a usage limit, or save and exit 75)
  CI                    set (not 0/false): plain timestamped lines instead of the live view
  TERM                  dumb: plain lines instead of the live view
  NO_COLOR              set (not empty): no colour in the live view
  ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN, ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_USE_BEDROCK,
  CLAUDE_CODE_USE_VERTEX, CLAUDE_CODE_USE_FOUNDRY, CLAUDE_CONFIG_DIR
                        the agent's credentials (checked before a run starts; the agent inherits the environment)
  PATH                  where claude is looked for (agent.command names another)

See 'orchestrate <command> --help' for init, status, clean, accept and retry.

Exit codes: 0 ok, 1 tasks failed, 2 usage or input error, 3 environment not ready, 4 locked, 75 paused on a usage limit, 130 interrupted.`;

function addInit(program: Command, done: (o: CommandOptions) => void, cwd: string): void {
  program
    .command('init')
    .description('write orchestrator.config.json and an example milestone (never replaces a file without --force)')
    .option('--force', 'replace orchestrator.config.json if it exists (orchestrator.config.schema.json, generated, is rewritten in any case)', false)
    .option('--cwd <dir>', 'repository to set up (default: the current directory)')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      '\nWrites, at the repository root: orchestrator.config.json (with a $schema your editor checks it with, and the ' +
        "project's test command as the checks when package.json, Cargo.toml or go.mod names one), milestones/1A.md (an " +
        'example that validates; not when milestones/ already has milestone files, which are never touched), and, ' +
        'unless the package is a dependency installed in node_modules, orchestrator.config.schema.json beside the config ' +
        '(generated: rewritten by every init that writes).\n' +
        'Refuses (exit 2, nothing written) when orchestrator.config.json exists (unless --force) or another ' +
        'configuration file does.',
    )
    .action((_opts: unknown, cmd: Command) => {
      rejectRunFlags(program, cmd);
      const opts = cmd.optsWithGlobals<{ force: boolean; cwd?: string }>();
      done({ command: 'init', force: opts.force, cwd: opts.cwd ?? cwd });
    });
}

function addStatus(program: Command, done: (o: CommandOptions) => void, cwd: string): void {
  program
    .command('status')
    .description("show the last run's tasks, costs and branches, and the worktrees on disk (changes nothing)")
    .option('--json', 'print one JSON document instead of text', false)
    .option('--config <file>', 'configuration file (default: orchestrator.config.json or another usual place)')
    .option('--cwd <dir>', 'repository to look at (default: the current directory)')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      '\n--json prints one document whose keys are always present (null or [] when empty): schemaVersion, repo, ' +
        'stateFile, run, lock, pause, target, stages, tasks, totals, worktreeDir, worktrees.\n' +
        'With no recorded run, "run" is null and the worktrees on disk are still listed.',
    )
    .action((_opts: unknown, cmd: Command) => {
      rejectRunFlags(program, cmd);
      const opts = cmd.optsWithGlobals<{ config?: string; cwd?: string }>();
      // The run has a --json of its own and globals win in optsWithGlobals: read status's own.
      const json = cmd.opts<{ json: boolean }>().json;
      done({ command: 'status', json, ...(opts.config ? { config: opts.config } : {}), cwd: opts.cwd ?? cwd });
    });
}

function addClean(program: Command, done: (o: CommandOptions) => void, cwd: string): void {
  program
    .command('clean')
    .description("remove the orchestrator's worktrees; never its unmerged work or uncommitted changes unless --force")
    .addOption(new Option('--merged', 'remove worktrees whose branch is merged into the target branch; keep branches (default)').conflicts('all'))
    .addOption(new Option('--all', 'remove every orchestrator worktree without uncommitted changes, and delete the branches merged into the target').conflicts('merged'))
    .option('--force', 'also discard uncommitted changes, and with --all delete unmerged branches', false)
    .option('--config <file>', 'configuration file (default: orchestrator.config.json or another usual place)')
    .option('--cwd <dir>', 'repository to clean (default: the current directory)')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      '\nEverything removed and everything kept is listed, with why and the command that removes it anyway. Never touches ' +
        'the main worktree or branches other than <branch_prefix><milestone id> and <branch_prefix>integration. ' +
        'Ends with git worktree prune.\n\nExit codes: 0 done (kept items are not an error), 1 a removal failed, ' +
        '2 usage or configuration error, 3 not a git repository, 4 a run holds the lock.',
    )
    .action((_opts: unknown, cmd: Command) => {
      rejectRunFlags(program, cmd);
      const opts = cmd.optsWithGlobals<{ all?: boolean; force: boolean; config?: string; cwd?: string }>();
      done({ command: 'clean', mode: opts.all ? 'all' : 'merged', force: opts.force, ...(opts.config ? { config: opts.config } : {}), cwd: opts.cwd ?? cwd });
    });
}

const TASK_ACTIONS = {
  accept: {
    description: 'merge a task that needs attention after you fixed it by hand in its worktree and its checks pass',
    help:
      '\nCommits what you left uncommitted in the task\'s worktree, runs the task\'s checks there and, when they pass, ' +
      'marks it done and merges it as orchestrate --resume merges a finished task (no agent runs). Its worktree and ' +
      'the continue command are in orchestrate status.\n\nExit codes: 0 accepted and merged, 1 a check failed (nothing ' +
      'recorded; your commit stays on the task branch) or the merge failed, 2 unknown task or not one that needs ' +
      'attention or failed, 3 not a git repository, or the agent or its sandbox cannot run (the acceptance is ' +
      'kept: orchestrate --resume merges it once that is fixed), 4 a run holds the lock.',
  },
  retry: {
    description: "run a task that needs attention or failed again, telling the agent the last round's findings",
    help:
      '\nContinues the task\'s agent session in its worktree with the last review findings and failed checks, then ' +
      'checks, review and remediation rounds as in a run; merged when approved. Only this task runs; continue the ' +
      'rest of the run with orchestrate --resume.\n\nExit codes: as a run (0 approved and merged, 1 not), 2 unknown ' +
      'task or not one that needs attention or failed, 4 a run holds the lock.',
  },
} as const;

function addTaskAction(program: Command, done: (o: CommandOptions) => void, cwd: string, name: 'accept' | 'retry'): void {
  program
    .command(name)
    .description(TASK_ACTIONS[name].description)
    .argument('<id>', 'the milestone id, e.g. 1B')
    .option('--config <file>', 'configuration file (default: orchestrator.config.json or another usual place)')
    .option('--cwd <dir>', 'repository (default: the current directory)')
    .allowExcessArguments(false)
    .addHelpText('after', TASK_ACTIONS[name].help)
    .action((id: string, _opts: unknown, cmd: Command) => {
      rejectRunFlags(program, cmd);
      const opts = cmd.optsWithGlobals<{ config?: string; cwd?: string }>();
      done({ command: name, id: id.trim(), ...(opts.config ? { config: opts.config } : {}), cwd: opts.cwd ?? cwd });
    });
}

function rejectRunFlags(program: Command, sub: Command): void {
  const given = RUN_ONLY_FLAGS.filter(([attribute]) => program.getOptionValueSource(attribute) === 'cli').map(([, flag]) => flag);
  if (given.length === 1 && given[0] === '--json' && sub.name() === 'status') {
    sub.error("error: --json before 'status' belongs to a run; put it after the command: orchestrate status --json", { code: 'commander.invalidArgument', exitCode: 2 });
  }
  if (given.length > 0) sub.error(`error: ${given.join(', ')} ${given.length === 1 ? 'belongs' : 'belong'} to a run, not to '${sub.name()}'`, { code: 'commander.invalidArgument', exitCode: 2 });
}

function unknownCommand(word: string): string {
  const suggestion = closest(word, SUBCOMMANDS);
  return `error: unknown command '${word}'${suggestion ? `\n(Did you mean ${suggestion}?)` : ` (commands: ${SUBCOMMANDS.join(', ')}; with no command, orchestrate runs)`}`;
}

function collectStage(value: string, previous: number[]): number[] {
  if (!/^[1-9]$/.test(value.trim())) throw new InvalidArgumentError(`a stage is a digit from 1 to 9, got "${value}".`);
  return [...previous, Number(value)];
}

function collectMilestone(value: string, previous: string[]): string[] {
  // `milestones/1A.md` (what tab completion gives) means 1A.
  const id = path.basename(value.trim()).replace(/\.md$/i, '');
  if (!MILESTONE_ID_PATTERN.test(id.toUpperCase())) {
    throw new InvalidArgumentError(`a milestone id is a stage digit and a task letter, like 1A, got "${value}".`);
  }
  return [...previous, id.toUpperCase()];
}
