import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MILESTONE_ID_PATTERN } from '../milestones/types.js';

export interface RunOptions {
  command: 'run';
  stages: number[];
  milestones: string[];
  resume: boolean;
  validateOnly: boolean;
  config?: string;
  cwd: string;
}

export type ParsedArgs =
  | { kind: 'options'; options: RunOptions }
  | { kind: 'exit'; code: number; stdout?: string; stderr?: string };

export function parseArgs(argv: readonly string[], version: string, cwd: string): ParsedArgs {
  let stdout = '';
  let stderr = '';
  let parsed: RunOptions | undefined;
  const program = new Command('orchestrate')
    .description('Run AI coding agents over milestones/*.md in parallel git worktrees, then review and merge their work.')
    .version(version, '-V, --version')
    .addOption(new Option('--stage <n>', 'run only this stage (repeatable)').argParser(collectStage).default([]))
    .addOption(new Option('--milestone <id>', 'run only this milestone, e.g. 1A (repeatable)').argParser(collectMilestone).default([]))
    .option('--resume', 'continue the last run where it stopped', false)
    .option('--validate-only', 'check milestones and configuration, print the plan, change nothing', false)
    .option('--config <file>', 'configuration file (default: orchestrator.config.json or another usual place)')
    .option('--cwd <dir>', 'repository to work on (default: the current directory)')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => (stdout += s),
      writeErr: (s) => (stderr += s),
      outputError: (s) => (stderr += s),
    })
    .action((opts: { stage: number[]; milestone: string[]; resume: boolean; validateOnly: boolean; config?: string; cwd?: string }) => {
      parsed = {
        command: 'run',
        stages: opts.stage,
        milestones: opts.milestone,
        resume: opts.resume,
        validateOnly: opts.validateOnly,
        ...(opts.config ? { config: opts.config } : {}),
        cwd: opts.cwd ?? cwd,
      };
    });
  program.addHelpText('after', '\nExit codes: 0 ok, 1 tasks failed, 2 usage or input error, 3 environment not ready, 4 locked, 75 paused on a usage limit, 130 interrupted.');
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const helpish = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      const hint = helpish ? '' : `Run 'orchestrate --help' for the options.\n`;
      return { kind: 'exit', code: helpish ? 0 : 2, stdout, stderr: stderr + hint };
    }
    throw err;
  }
  if (!parsed) return { kind: 'exit', code: 2, stderr: `${stderr}error: nothing to do\n` };
  if (parsed.resume && (parsed.stages.length > 0 || parsed.milestones.length > 0)) {
    return { kind: 'exit', code: 2, stderr: `error: --resume continues the last run as it was; it cannot be combined with --stage or --milestone\n` };
  }
  return { kind: 'options', options: parsed };
}

function collectStage(value: string, previous: number[]): number[] {
  if (!/^[1-9]$/.test(value.trim())) throw new InvalidArgumentError(`a stage is a digit from 1 to 9, got "${value}".`);
  return [...previous, Number(value)];
}

function collectMilestone(value: string, previous: string[]): string[] {
  const id = value.trim().replace(/\.md$/i, '');
  if (!MILESTONE_ID_PATTERN.test(id.toUpperCase())) {
    throw new InvalidArgumentError(`a milestone id is a stage digit and a task letter, like 1A, got "${value}".`);
  }
  return [...previous, id.toUpperCase()];
}
