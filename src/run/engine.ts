import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AgentAdapter } from '../agents/types.js';
import type { Config } from '../config/schema.js';
import { branchSha, existingBranches, isAncestor } from '../git/repo.js';
import type { RepoInfo } from '../git/repo.js';
import { ensureExcluded } from '../git/worktree.js';
import type { Milestone, MilestoneId } from '../milestones/types.js';
import type { Plan } from '../plan/types.js';
import type { Logger } from '../report/logger.js';
import { timestampForFile } from '../report/logger.js';
import { writeTasksMd } from '../report/tasks-md.js';
import { writeMetrics } from '../report/metrics.js';
import { createMetricsRecorder, type ResourceMetrics } from '../monitor/index.js';
import { createResourceGate } from './resource-gate.js';
import { runSchedule } from '../scheduler/index.js';
import type { SchedulerState } from '../scheduler/types.js';
import { JournalWriter, type JournalEntry } from '../state/journal.js';
import { acquireLock } from '../state/lock.js';
import { emptyUsage, runTotals, RunStateStore, type RunState, type RunStatus, type StageRecord, type TaskRecord } from '../state/run-state.js';
import { branchFor, integrationBranchFor, rel, runPaths, type RunPaths, type Templates } from './context.js';
import { stopOrphanedAgent } from './orphans.js';
import { resumedState, withJournalBookings, withoutAgentPids } from './resume-state.js';
import { stepKind } from './agent-call.js';
import { stamp, type EventSink } from './events.js';
import { RunRecorder } from './recorder.js';
import type { ScheduleEvent } from '../state/run-events.js';
import { PauseController } from './limits.js';
import { isoNow, systemClock, type Clock } from './clock.js';
import { crashPoint } from './crash-points.js';
import { loadTemplate, type TemplateName } from './prompt.js';
import { settleStage, type StageDeps } from './stage.js';
import { runTask, type TaskDeps } from './task.js';
import type { ResourceGateDeps } from './resource-gate.js';
import type { CommandSandbox } from '../sandbox/plan.js';
import { localDateTimeOf } from '../report/local-time.js';

export interface RunRequest {
  repo: RepoInfo;
  config: Config;
  milestones: readonly Milestone[];
  plan: Plan;
  /** Ids this run executes (already validated by selectTasks). */
  selected: MilestoneId[];
  /** Ids done in an earlier run: reported, never run again. */
  carriedOver: MilestoneId[];
  /** The state being resumed, if --resume. */
  previous?: RunState;
  adapter: AgentAdapter;
  /** Checks and commit hooks run inside it (src/sandbox); absent: as the user. */
  commandSandbox?: CommandSandbox;
  logger: Logger;
  signal: AbortSignal;
  command: string;
  onEvent?: EventSink;
  /** The run's time (pauses, back-off); default the system's. */
  clock?: Clock;
}

export type RunEnd =
  | { kind: 'finished'; state: RunState }
  | { kind: 'locked'; message: string }
  | { kind: 'refused'; message: string };

/**
 * Everything the steps of a run get, as one object built by the engine: each step's signature names the part it
 * touches (TaskDeps, StageDeps, ResourceGateDeps); the engine itself uses the pause controller besides.
 */
type RunDeps = TaskDeps &
  StageDeps &
  ResourceGateDeps & { repo: RepoInfo; config: Config; paths: RunPaths; recorder: RunRecorder; pauses: PauseController };

/**
 * The state file, TASKS.md and metrics are rewritten whole on a save: the changes of 100 ms are one save, not one
 * each (BENCHMARKS.md, cpu: the writes were most of the orchestrator's own CPU with short tasks).
 */
const STATE_SAVE_DELAY_MS = 100;

/** The thin shell around the pure scheduler: lock, state, worktrees, agents, merges, TASKS.md. */
export async function executeRun(req: RunRequest): Promise<RunEnd> {
  const runId = req.previous?.runId ?? newRunId();
  const paths = runPaths(req.repo.root, req.config, runId);
  // Before anything is written, the lock included: a template path that does not resolve is the user's to fix.
  const templates = await loadTemplates(req).catch((err: Error) => err);
  if (templates instanceof Error) return { kind: 'refused', message: templates.message };
  const lock = await acquireLock(paths.lockFile, req.command);
  if (!lock.acquired) return { kind: 'locked', message: lock.reason };
  try {
    if (lock.tookOverFrom) req.logger.warn(`took over a stale lock from pid ${lock.tookOverFrom.pid} (no longer running)`);
    return await runLocked(req, runId, paths, templates);
  } finally {
    await lock.release();
  }
}

async function runLocked(req: RunRequest, runId: string, paths: RunPaths, templates: Templates): Promise<RunEnd> {
  const resuming = req.previous !== undefined;
  if (!resuming) {
    const leftovers = await findLeftovers(req, req.selected);
    if (leftovers.length > 0) return { kind: 'refused', message: leftoversMessage(leftovers, existsSync(paths.stateFile), rel(req.repo.root, paths.stateFile)) };
  }
  await ensureExcluded(req.repo.commonDir, excludePatterns(req.repo.root, [paths.worktreeDir, paths.stateDir, paths.logDir]));
  await mkdir(paths.runLogDir, { recursive: true });
  const target = req.previous?.targetBranch ?? req.config.git.target_branch ?? req.repo.currentBranch;
  const targetSha = target ? await branchSha(req.repo.root, target) : undefined;
  if (!target || !targetSha) {
    return { kind: 'refused', message: `target branch ${target ?? '(none: HEAD is detached)'} does not exist; check out a branch or set git.target_branch` };
  }
  // The target comes from the state file on --resume, which anyone can edit: it must still be the branch the run
  // started on, i.e. contain the commit recorded then. Otherwise the run would merge into someone else's branch.
  if (req.previous && !/^[0-9a-f]{40,64}$/.test(req.previous.targetStartSha)) return refusedState(req, paths, `its start commit ${JSON.stringify(req.previous.targetStartSha)} is not a commit id`);
  if (req.previous && !(await isAncestor(req.repo.root, req.previous.targetStartSha, targetSha))) {
    return refusedState(req, paths, `its target branch ${target} does not contain the commit the run started from (${req.previous.targetStartSha.slice(0, 7)})`);
  }
  if (!req.config.git.hooks) req.logger.warn("git.hooks is false: commits made for agents skip the repository's pre-commit and commit-msg hooks");
  // The state file read is never changed: the run starts from a new state derived from it (run/resume-state.ts).
  let state = req.previous ? resumedState(req.previous, { selected: req.selected, config: req.config, repoRoot: req.repo.root, worktreeDir: paths.worktreeDir }) : newState(req, runId, paths, target, targetSha);
  if (resuming) state = await stopOrphanedAgents(state, req, paths);

  const journal = await JournalWriter.open(paths.stateDir, runId, resuming, journalCrashPoints).catch((err: Error) => err);
  if (journal instanceof Error) return { kind: 'refused', message: `cannot open the run journal in ${rel(req.repo.root, paths.stateDir)}: ${journal.message}` };
  if (resuming && journal.replaced) {
    req.logger.warn(
      `the run journal ${rel(req.repo.root, journal.file)} ${journal.replaced}: a new one is started, so the unfinished tasks' steps recorded only there (agent calls, reviews and their findings) run again`,
    );
  }
  if (resuming) state = withJournalBookings(state, journal.view);
  try {
    return await runJournaled(req, runId, paths, templates, state, journal);
  } finally {
    await journal.close().catch(() => undefined);
  }
}

async function runJournaled(req: RunRequest, runId: string, paths: RunPaths, templates: Templates, initial: RunState, journal: JournalWriter): Promise<RunEnd> {
  const resuming = req.previous !== undefined;
  const store = new RunStateStore(paths.stateFile);
  const metrics = createMetricsRecorder();
  // Stopping for a usage limit (auto_resume off) ends the run like Ctrl-C does, but as "paused".
  const stopper = new AbortController();
  const signal = AbortSignal.any([req.signal, stopper.signal]);
  let pausedBecause: string | undefined;
  const clock = req.clock ?? systemClock;
  const recorder = new RunRecorder(initial, {
    save: saveOutputs(store, paths, req.logger, () => metrics.summary()),
    emit: (event) => req.onEvent?.(stamp(event, clock)),
    logger: req.logger,
    repoRoot: req.repo.root,
    journal,
    saveDelayMs: STATE_SAVE_DELAY_MS,
  });
  const pauses = new PauseController({ config: req.config, logger: req.logger, state: () => recorder.state, record: (e) => recorder.record(e) }, (reason) => {
    pausedBecause ??= reason;
    stopper.abort(new Error(reason));
  }, clock);
  // Built once; each step takes the part of it its signature names.
  const deps: RunDeps = {
    repo: req.repo,
    config: req.config,
    paths,
    milestones: new Map(req.milestones.map((m) => [m.id, m])),
    recorder,
    clock,
    adapter: req.adapter,
    ...(req.commandSandbox ? { commandSandbox: req.commandSandbox } : {}),
    logger: req.logger,
    templates,
    resuming,
    signal,
    pauses,
    journal,
  };
  const pendingPause = pauses.until();
  if (pendingPause !== undefined && pendingPause > clock.now() && !req.config.auto_resume) {
    return finish(recorder, clock, 'paused', `still paused until ${localDateTimeOf(recorder.state.pause!.until)} (${recorder.state.pause!.reason}); run orchestrate --resume after that`);
  }
  recorder.record({ type: 'run-started', resumed: resuming, tasks: [...req.selected], maxParallel: req.config.max_parallel_tasks });
  await recorder.save();
  req.logger.info(`run ${runId}: ${req.selected.length} task${req.selected.length === 1 ? '' : 's'} on ${recorder.state.targetBranch}${resuming ? ' (resumed)' : ''}`);

  const presettled = await settleFinishedStages(deps, req.selected);
  if (presettled) return finish(recorder, clock, 'stopped', presettled);

  const result = await runSchedule(req.plan, {
    selected: req.selected,
    done: req.carriedOver,
    maxParallel: req.config.max_parallel_tasks,
    beforeStart: gateStarts(deps, createResourceGate(deps, metrics)),
    onFailure: req.config.on_failure,
    signal,
    runTask: (id, taskSignal) => runTask(deps, deps.milestones.get(id)!, taskSignal),
    settleStage: (_stage, outcome) => settleStage(deps, outcome),
    // Task status is decided by the scheduler alone; the run state records each decision as it is made.
    onChange: (s) => recorder.record(scheduleChanged(s)),
  });
  if (pausedBecause !== undefined && !req.signal.aborted) return finish(recorder, clock, 'paused', pausedBecause);
  const whole = result.ok && !req.signal.aborted ? wholeRunStatus(recorder.state) : undefined;
  if (whole) return finish(recorder, clock, whole.status, whole.message);
  return finish(recorder, clock, finalStatus(result.ok, req.signal.aborted, result.stoppedReason), result.stoppedReason);
}

/**
 * `accept`/`retry` run one task of a recorded run: the selection finishing says nothing about the others. The run
 * is completed only when every one of its tasks is done, as for a run that ran them all; otherwise failed (a task
 * failed, needs attention or was skipped) or stopped (tasks not run yet). Undefined: every task is done.
 */
function wholeRunStatus(state: RunState): { status: RunStatus; message?: string } | undefined {
  const open = Object.values(state.tasks).filter((t) => t.status !== 'done').sort((a, b) => a.id.localeCompare(b.id));
  if (open.length === 0) return undefined;
  if (open.some((t) => t.status === 'failed' || t.status === 'needs_attention' || t.status === 'skipped')) return { status: 'failed' };
  return { status: 'stopped', message: `not run yet: ${open.map((t) => t.id).join(', ')}; continue with orchestrate --resume` };
}

/** The scheduler's state as the run state records it: each task's status and reason, the stages it reached. */
export function scheduleChanged(s: SchedulerState): ScheduleEvent {
  return {
    type: 'schedule-changed',
    tasks: s.tasks.map((t) => ({ id: t.id, status: t.status, ...(t.reason !== undefined ? { reason: t.reason } : {}) })),
    startedStages: s.stages.filter((st) => st.phase !== 'waiting').map((st) => st.stage),
  };
}

async function finish(recorder: RunRecorder, clock: Clock, status: RunStatus, message: string | undefined): Promise<RunEnd> {
  recorder.record({ type: 'run-finished', status, at: isoNow(clock), ...(message ? { message } : {}) });
  await recorder.save();
  return { kind: 'finished', state: recorder.state };
}

/** No agent starts while the run is paused on a limit, nor while the machine has no room for it. */
function gateStarts(ctx: Pick<RunDeps, 'config' | 'logger' | 'recorder' | 'pauses'>, resourceGate: (id: MilestoneId, signal: AbortSignal) => Promise<void>) {
  return async (id: MilestoneId, signal: AbortSignal): Promise<void> => {
    const overBudget = budgetExceeded(ctx.config, ctx.recorder.state, ctx.logger);
    if (overBudget) throw new Error(overBudget);
    await ctx.pauses.waitUntilClear(signal);
    if (signal.aborted) throw signal.reason;
    await resourceGate(id, signal);
  };
}

/** budget.max_usd_total: once spent (agents, reviews, remediation and merges alike), no new task starts. */
function budgetExceeded(config: Pick<Config, 'budget'>, state: RunState, logger: Logger): string | undefined {
  const limit = config.budget.max_usd_total;
  if (limit === null || limit === undefined) return undefined;
  const spent = runTotals(state).costUsd;
  if (spent < limit) return undefined;
  const message = `the total budget is spent: $${spent.toFixed(4)} of budget.max_usd_total $${limit}; no new tasks are started (raise it and run orchestrate --resume)`;
  logger.warn(message);
  return message;
}

async function loadTemplates(req: RunRequest): Promise<Templates> {
  const user = async (key: string, configured: string | null, name: TemplateName): Promise<string> => {
    const file = configured ? path.resolve(req.repo.root, configured) : undefined;
    try {
      return await loadTemplate(file, name);
    } catch (err) {
      throw new Error(`${key}: cannot read ${file ?? name} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the path in the configuration or remove the key to use the shipped template`);
    }
  };
  return {
    task: await user('agent.prompt_template', req.config.agent.prompt_template, 'task-prompt'),
    review: await user('review.prompt_template', req.config.review.prompt_template, 'review-prompt'),
    conflict: await user('conflict template', null, 'conflict-prompt'),
  };
}

function finalStatus(ok: boolean, aborted: boolean, stoppedReason: string | undefined): RunStatus {
  if (aborted) return 'interrupted';
  if (ok) return 'completed';
  return stoppedReason ? 'stopped' : 'failed';
}

/**
 * Writes the state file, TASKS.md and metrics.json for one state, in that order (the recorder calls it one save at a
 * time, the latest state last). A failed write is logged, not fatal: the journal, not this file, is what a resume
 * trusts for finished steps.
 */
function saveOutputs(store: RunStateStore, paths: RunPaths, logger: Logger, resources: () => ResourceMetrics): (state: RunState) => Promise<void> {
  return async (state) => {
    // The store stamps updatedAt on what it saves: a copy, the recorder's state is frozen.
    const snapshot = { ...state };
    try {
      await store.save(snapshot);
      crashPoint('state saved');
      await writeTasksMd(paths.tasksMd, snapshot, paths.stateDir);
      await writeMetrics(paths.metricsFile, snapshot, resources());
    } catch (err) {
      logger.error(`could not save run state: ${(err as Error).message}`);
    }
  };
}

/**
 * The `.git/info/exclude` lines for the orchestrator's folders that are inside the working tree, and only those:
 * a folder outside it needs none, and a line for it (`/logs/`) would hide a folder of the user's with that name.
 */
export function excludePatterns(root: string, dirs: readonly string[]): string[] {
  return dirs
    .map((dir) => path.relative(root, dir))
    .filter((r) => r !== '' && r !== '..' && !r.startsWith(`..${path.sep}`) && !path.isAbsolute(r))
    .map((r) => `/${r.split(path.sep).join('/')}/`);
}

function newRunId(): string {
  return `${timestampForFile(new Date())}-${randomBytes(2).toString('hex')}`;
}

function newState(req: RunRequest, runId: string, paths: RunPaths, target: string, targetSha: string): RunState {
  const now = new Date().toISOString();
  const tasks: Record<MilestoneId, TaskRecord> = {};
  const stagesInRun = new Set<number>();
  for (const m of req.milestones) {
    const selected = req.selected.includes(m.id);
    const carried = req.carriedOver.includes(m.id);
    if (!selected && !carried) continue;
    if (selected) stagesInRun.add(m.stage);
    tasks[m.id] = newTaskRecord(req.config, m, carried ? 'done' : 'pending', paths, req.repo.root);
    if (carried) tasks[m.id]!.merged = true;
  }
  const stages: StageRecord[] = [...stagesInRun].sort((a, b) => a - b).map((stage) => ({ stage, status: 'pending' }));
  if (stages[0]) stages[0].baseSha = targetSha;
  return {
    version: 1,
    runId,
    status: 'running',
    startedAt: now,
    updatedAt: now,
    targetBranch: target,
    targetStartSha: targetSha,
    selected: [...req.selected],
    stages,
    tasks,
    logDir: rel(req.repo.root, paths.runLogDir),
  };
}

function newTaskRecord(config: Config, m: Milestone, status: TaskRecord['status'], paths: RunPaths, root: string): TaskRecord {
  return {
    id: m.id,
    stage: m.stage,
    title: m.title,
    status,
    branch: branchFor(config, m.id),
    worktree: rel(root, `${paths.worktreeDir}/${m.id}`),
    ...(m.estimateMinutes ? { estimateMinutes: m.estimateMinutes } : {}),
    attempts: 0,
    turns: 0,
    costUsd: 0,
    usage: emptyUsage(),
    durationMs: 0,
    transcripts: [],
  };
}

/** Test crash points at every durable journal write: after each step, and inside each agent call once it runs. */
function journalCrashPoints(e: JournalEntry): void {
  if (e.t === 'session') crashPoint(`inside a ${stepKind(e.step)} agent call`);
  else if (e.t === 'done') crashPoint(`${stepKind(e.step.replace(/^(merge|advance)-.*/, '$1'))} step recorded`);
}

/**
 * A crash between a stage's last task and its merge leaves a stage whose tasks are all done but not merged. The
 * scheduler only runs stages with work left, so such stages are merged here first, in order. Returns why the run
 * cannot go on, if a merge fails.
 */
async function settleFinishedStages(ctx: StageDeps, selected: readonly MilestoneId[]): Promise<string | undefined> {
  for (const stage of ctx.recorder.state.stages) {
    const tasks = Object.values(ctx.recorder.state.tasks).filter((t) => t.stage === stage.stage);
    const hasWorkLeft = tasks.some((t) => selected.includes(t.id));
    if (hasWorkLeft) break;
    if (!tasks.some((t) => t.status === 'done' && !t.merged)) continue;
    const outcome = {
      stage: stage.stage,
      tasks: tasks.map((t) => ({ id: t.id, stage: t.stage, deps: [], criticalPathMinutes: 0, status: t.status, carriedOver: true })),
      failures: tasks.filter((t) => t.status === 'failed' || t.status === 'needs_attention').map((t) => t.id),
    };
    const settled = await settleStage(ctx, outcome);
    if (!settled.ok) return settled.reason ?? `stage ${stage.stage} could not be merged`;
  }
  return undefined;
}

function refusedState(req: RunRequest, paths: RunPaths, why: string): RunEnd {
  const file = rel(req.repo.root, paths.stateFile);
  return {
    kind: 'refused',
    message: `cannot resume: the run state ${file} does not match this repository: ${why}. Move it aside (mv ${file} ${file}.bad) to start a fresh run; branches and worktrees from the earlier run are kept`,
  };
}

/** Stops the agents an interrupted run left running (those still provably its own); returns the state without their pids. */
async function stopOrphanedAgents(state: RunState, req: RunRequest, paths: RunPaths): Promise<RunState> {
  for (const rec of Object.values(state.tasks)) {
    if (rec.agentPid === undefined) continue;
    const outcome = await stopOrphanedAgent(rec.agentPid, rec.agentStart, path.join(paths.worktreeDir, rec.id));
    if (outcome === 'stopped') req.logger.warn(`[${rec.id}] stopped agent pid ${rec.agentPid} left running by the interrupted run`);
    if (outcome === 'not-ours') req.logger.info(`[${rec.id}] recorded agent pid ${rec.agentPid} is not that task's agent (any more); left alone`);
  }
  return withoutAgentPids(state);
}

/**
 * Only a recorded run can be continued: `--resume` is offered when the state file exists, and otherwise the way to
 * discard the branches (clean --all --force also deletes unmerged ones, with their worktrees).
 */
function leftoversMessage(branches: readonly string[], stateExists: boolean, stateFile: string): string {
  const found = `branches from an earlier run exist: ${branches.join(', ')}`;
  const discard = 'orchestrate clean --all --force  (deletes them and their worktrees, uncommitted changes included)';
  if (stateExists) return `${found}. Continue that run with  orchestrate --resume, or discard it with  ${discard}`;
  return (
    `${found}, but no run state records them (${stateFile} is missing), so there is no run to continue. ` +
    `Discard them with  ${discard}, or keep their work under other names first:  git branch -m <branch> <new-name>`
  );
}

async function findLeftovers(req: RunRequest, ids: readonly MilestoneId[]): Promise<string[]> {
  return existingBranches(req.repo.root, ids.map((id) => branchFor(req.config, id)));
}
