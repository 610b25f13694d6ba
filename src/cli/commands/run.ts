import path from 'node:path';
import { hasErrors, type Diagnostic } from '../../diagnostics.js';
import { loadConfig } from '../../config/load.js';
import { defaultConfig, type Config } from '../../config/schema.js';
import { inspectRepo, pathInGit } from '../../git/repo.js';
import { loadMilestones } from '../../milestones/load.js';
import type { Milestone, MilestoneId } from '../../milestones/types.js';
import { buildPlan, formatPlan, selectTasks } from '../../plan/index.js';
import type { Plan } from '../../plan/types.js';
import { loadRunState, stateFilePath, type RunState } from '../../state/run-state.js';
import type { RunOptions } from '../args.js';
import { cwdFolder } from '../cwd.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../package.js';
import { planDocument } from '../plan-json.js';
import { fail, printDiagnostics } from '../print.js';
import { tasksMdProblem } from '../../report/tasks-md.js';

/**
 * `orchestrate [options]`: validate the configuration and milestones, then print the plan (`--validate-only`) or
 * start the run. Returns the exit code (exit-codes.ts); every problem is printed through the one printer.
 */
export async function runCommand(opts: RunOptions, io: Io): Promise<number> {
  const dir = cwdFolder(opts.cwd, io, 'name the folder of the repository to work on');
  if (dir === undefined) return EXIT.usage;
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
  if (opts.validateOnly && opts.json) {
    const selective = opts.stages.length > 0 || opts.milestones.length > 0;
    const doc = planDocument({
      repo: root,
      config: loaded.configSource,
      milestonesDir: loaded.config?.milestones_dir ?? defaultMilestonesDir(),
      ...(loaded.plan ? { plan: loaded.plan } : {}),
      milestones: loaded.milestones,
      selected: loaded.plan ? selection.selected : [],
      selection: selective ? { stages: opts.stages, milestones: opts.milestones } : null,
      done: loaded.done,
      diagnostics,
    });
    io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
    return doc.valid ? EXIT.ok : EXIT.usage;
  }
  if (hasErrors(diagnostics) || !loaded.config || !loaded.plan) return EXIT.usage;

  if (opts.validateOnly) {
    const selective = opts.stages.length > 0 || opts.milestones.length > 0;
    io.stdout(formatPlan(loaded.plan, selective ? { only: new Set(selection.selected) } : {}));
    io.stdout('\n');
    return EXIT.ok;
  }
  // The engine, the agent adapter and the terminal view load only when a run starts: --validate-only stays quick.
  const { startRun } = await import('../start-run.js');
  // --resume continues the run it reads: its own tasks only. A milestone that run did not select (an earlier
  // --milestone / --stage run, a file added since) has no record in it, and was reported failed without running.
  const previous = loaded.previous;
  // A task of that run whose milestone file is gone can never run: it was left "not run yet", with "continue with
  // orchestrate --resume" for ever.
  const gone = opts.resume && previous ? Object.values(previous.tasks).filter((t) => t.status !== 'done' && !loaded.milestones.some((m) => m.id === t.id)) : [];
  if (gone.length > 0) {
    const ids = gone.map((t) => t.id).sort();
    const dir = loaded.config.milestones_dir;
    io.stderr(
      fail(
        `${ids.join(', ')} ${ids.length === 1 ? 'is a task' : 'are tasks'} of the run being resumed, not done, but no such milestone is in ${dir} any more`,
        `restore ${ids.length === 1 ? 'its file' : 'their files'} (git log --oneline -- ${dir} shows the commit that removed ${ids.length === 1 ? 'it' : 'them'}) and run orchestrate --resume again, or start a new run of the milestones there are: orchestrate`,
      ),
    );
    return EXIT.usage;
  }
  const selected = opts.resume && previous ? selection.selected.filter((id) => previous.tasks[id] !== undefined) : selection.selected;
  return startRun({ opts, io, repo: inspected.repo!, config: loaded.config, milestones: loaded.milestones, plan: loaded.plan, selected, previous: loaded.previous, done: loaded.done });
}

interface Loaded {
  config?: Config;
  /** The configuration file, relative to the root; null when the defaults were used. */
  configSource: string | null;
  milestones: Milestone[];
  plan?: Plan;
  diagnostics: Diagnostic[];
  previous?: RunState;
  done: Set<MilestoneId>;
}

async function loadInputs(root: string, opts: RunOptions, env: NodeJS.ProcessEnv): Promise<Loaded> {
  const configResult = await loadConfig({ repoRoot: root, ...(opts.config ? { explicitPath: opts.config } : {}), env });
  const diagnostics: Diagnostic[] = [...configResult.diagnostics];
  const tasksMd = tasksMdProblem(root, await pathInGit(root, 'TASKS.md'));
  if (tasksMd) diagnostics.push(tasksMd);
  // A config error elsewhere (LOG_LEVEL=loud) must not hide the milestones' own errors: report both at once.
  const configSource = configResult.source;
  if (hasErrors(configResult.diagnostics) && !configResult.milestonesDirTrusted) return { configSource, milestones: [], diagnostics, done: new Set() };
  const config = configResult.config;
  const { milestones, diagnostics: found } = await loadMilestones({ repoRoot: root, milestonesDir: config.milestones_dir });
  diagnostics.push(...found);
  if (hasErrors(diagnostics)) return { config, configSource, milestones, diagnostics, done: new Set() };
  const plan = buildPlan(milestones);
  // Read-only, also for --validate-only: what is done decides what --stage 2 or --resume would run.
  const previousState = await loadRunState(stateFilePath(root, config.state_dir));
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
  return { config, configSource, milestones, plan, diagnostics, ...(previous ? { previous } : {}), done };
}

function defaultMilestonesDir(): string {
  return defaultConfig().milestones_dir;
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
