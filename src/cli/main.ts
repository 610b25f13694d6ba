#!/usr/bin/env node
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClaudeAdapter } from '../agents/claude/adapter.js';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { inspectRepo, type RepoInfo } from '../git/repo.js';
import { loadMilestones } from '../milestones/load.js';
import type { Milestone, MilestoneId } from '../milestones/types.js';
import { buildPlan, formatPlan, selectTasks } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import { createLogger } from '../report/logger.js';
import { killAllProcessTreesNow } from '../util/process.js';
import { executeRun } from '../run/engine.js';
import { loadRunState, stateFilePath, type RunState } from '../state/run-state.js';
import { parseArgs, type RunOptions } from './args.js';
import { cleanCommand } from './commands/clean.js';
import { statusCommand } from './commands/status.js';
import { EXIT } from './exit-codes.js';
import { fail, printDiagnostics } from './print.js';
import { summarizeRun } from './summary.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const version = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const args = parseArgs(argv, version, io.cwd);
  if (args.kind === 'exit') {
    if (args.stdout) io.stdout(args.stdout);
    if (args.stderr) io.stderr(args.stderr);
    return args.code;
  }
  const options = args.options;
  switch (options.command) {
    case 'run':
      return runCommand(options, io);
    case 'status':
      return statusCommand(options, io);
    case 'clean':
      return cleanCommand(options, io);
    default: {
      const never: never = options;
      return never;
    }
  }
}

async function runCommand(opts: RunOptions, io: Io): Promise<number> {
  const dir = path.resolve(io.cwd, opts.cwd);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    io.stderr(fail(`--cwd ${opts.cwd}: no such directory`, 'name the folder of the repository to work on'));
    return EXIT.usage;
  }
  const inspected = await inspectRepo(dir);
  if (!inspected.repo && !opts.validateOnly) {
    io.stderr(fail(describeRepoProblem(inspected.problem!), 'run orchestrate inside a git repository with at least one commit, or pass --cwd <repo>'));
    return EXIT.environment;
  }
  // Validation needs no git: a plain folder of milestones can be checked too.
  const root = inspected.repo?.root ?? dir;

  const loaded = await loadInputs(root, opts, io.env);
  const selection = selectTasks(loaded.plan ?? emptyPlan(), { stages: opts.stages, milestones: opts.milestones }, loaded.done);
  const diagnostics = [...loaded.diagnostics, ...(loaded.plan ? selection.diagnostics : [])];
  printDiagnostics(diagnostics, io.stderr);
  if (hasErrors(diagnostics) || !loaded.config || !loaded.plan) return EXIT.usage;

  if (opts.validateOnly) {
    const selective = opts.stages.length > 0 || opts.milestones.length > 0;
    io.stdout(formatPlan(loaded.plan, selective ? { only: new Set(selection.selected) } : {}));
    io.stdout('\n');
    return EXIT.ok;
  }
  return startRun({ opts, io, repo: inspected.repo!, config: loaded.config, milestones: loaded.milestones, plan: loaded.plan, selected: selection.selected, previous: loaded.previous, done: loaded.done });
}

interface Loaded {
  config?: Config;
  milestones: Milestone[];
  plan?: Plan;
  diagnostics: Diagnostic[];
  previous?: RunState;
  done: Set<MilestoneId>;
}

async function loadInputs(root: string, opts: RunOptions, env: NodeJS.ProcessEnv): Promise<Loaded> {
  const configResult = await loadConfig({ repoRoot: root, ...(opts.config ? { explicitPath: opts.config } : {}), env });
  const diagnostics: Diagnostic[] = [...configResult.diagnostics];
  if (hasErrors(configResult.diagnostics)) return { milestones: [], diagnostics, done: new Set() };
  const config = configResult.config;
  const { milestones, diagnostics: found } = await loadMilestones({ repoRoot: root, milestonesDir: config.milestones_dir });
  diagnostics.push(...found);
  if (hasErrors(found)) return { config, milestones, diagnostics, done: new Set() };
  const plan = buildPlan(milestones);
  const previousState = opts.validateOnly ? { kind: 'none' as const } : await loadRunState(stateFilePath(root, config.state_dir));
  if (previousState.kind === 'corrupt') {
    diagnostics.push({
      severity: 'error',
      code: 'corrupt-state',
      file: path.relative(root, stateFilePath(root, config.state_dir)),
      message: `the run state file is unreadable: ${previousState.problem}`,
      hint: 'move it aside to start a fresh run (branches and worktrees from that run are kept)',
    });
  }
  const previous = previousState.kind === 'ok' ? previousState.state : undefined;
  if (opts.resume && !previous && previousState.kind !== 'corrupt') {
    diagnostics.push({ severity: 'error', code: 'nothing-to-resume', message: 'there is no earlier run to resume', hint: 'start a run without --resume' });
  }
  // A resumed run keeps everything its tasks finished (merged or not: the engine merges what is left); a new run
  // builds on merged work only.
  const done = new Set(previous ? Object.values(previous.tasks).filter((t) => t.status === 'done' && (opts.resume || t.merged)).map((t) => t.id) : []);
  return { config, milestones, plan, diagnostics, ...(previous ? { previous } : {}), done };
}

async function startRun(p: { opts: RunOptions; io: Io; repo: RepoInfo; config: Config; milestones: Milestone[]; plan: Plan; selected: MilestoneId[]; previous: RunState | undefined; done: Set<MilestoneId> }): Promise<number> {
  const { io, config } = p;
  const adapter = createClaudeAdapter({ ...(config.agent.command ? { command: toArgv(config.agent.command) } : {}), projectRoot: PACKAGE_ROOT });
  const availability = await adapter.preflight(io.env);
  if (!availability.ok) {
    io.stderr(fail(`the agent cannot run: ${availability.problem}`));
    return EXIT.environment;
  }
  // A resumed run with every task finished may still owe merges (a crash came between a task and its merge).
  const mergesOwed = p.opts.resume && p.previous !== undefined && Object.values(p.previous.tasks).some((t) => t.status === 'done' && !t.merged);
  if (p.selected.length === 0 && !mergesOwed) {
    io.stdout('Nothing to run: every selected milestone is already done.\n');
    return EXIT.ok;
  }
  const logger = createLogger({
    level: config.logging.level,
    dir: path.resolve(p.repo.root, config.logging.log_dir),
    env: io.env,
    echo: (level, line) => (level === 'debug' ? undefined : (level === 'info' ? io.stdout : io.stderr)(`${new Date().toISOString().slice(11, 19)} ${line}\n`)),
  });
  const controller = new AbortController();
  const detach = onInterrupt(controller, io);
  try {
    const end = await executeRun({
      repo: p.repo,
      config,
      milestones: p.milestones,
      plan: p.plan,
      selected: p.selected,
      carriedOver: [...p.done],
      ...(p.opts.resume && p.previous ? { previous: p.previous } : {}),
      adapter,
      logger,
      signal: controller.signal,
      command: ['orchestrate', ...process.argv.slice(2)].join(' '),
    });
    switch (end.kind) {
      case 'locked':
        io.stderr(fail(end.message, 'wait for it to finish, or stop it; a lock left by a crashed run is taken over automatically'));
        return EXIT.locked;
      case 'refused':
        io.stderr(fail(end.message));
        return EXIT.environment;
      case 'finished':
        io.stdout(summarizeRun(end.state, p.repo.root));
        return exitCodeFor(end.state.status);
      default: {
        const never: never = end;
        return never;
      }
    }
  } finally {
    detach();
    await logger.close();
  }
}

function exitCodeFor(status: RunState['status']): number {
  switch (status) {
    case 'completed':
      return EXIT.ok;
    case 'paused':
      return EXIT.paused;
    case 'interrupted':
      return EXIT.interrupted;
    case 'failed':
    case 'stopped':
    case 'running':
      return EXIT.runFailed;
    default: {
      const never: never = status;
      return never;
    }
  }
}

/** First Ctrl-C: stop starting work and ask running agents to stop. Second: leave now. */
function onInterrupt(controller: AbortController, io: Io): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      io.stderr(`\n${sig}: stopping — no new tasks; running agents are asked to stop and the state is saved. Press Ctrl-C again to quit at once.\n`);
      controller.abort(new Error(`interrupted by ${sig}`));
    } else {
      io.stderr(`${sig} again: killing the agents and quitting now. Continue later with orchestrate --resume.\n`);
      killAllProcessTreesNow();
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

function toArgv(command: string | string[]): string[] {
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

function emptyPlan(): Plan {
  return { stages: [], criticalPathMinutes: 0, totalWorkMinutes: 0 };
}

function describeRepoProblem(problem: { kind: string; dir: string }): string {
  switch (problem.kind) {
    case 'no_commits':
      return `${problem.dir} is a git repository without commits; worktrees need a first commit`;
    case 'bare':
      return `${problem.dir} is a bare repository; run orchestrate in a working tree`;
    default:
      return `${problem.dir} is not inside a git repository`;
  }
}

const isEntry = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry) {
  // Output piped into `head` and closed early is not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // Only a bug reaches here: say so plainly, with the stack for the report.
      process.stderr.write(`internal error (please report): ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
