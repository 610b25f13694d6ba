import path from 'node:path';
import { gitQuery, gitRaw } from '../git/client.js';
import { identityArgs } from '../git/commit.js';
import { initSubmodules } from '../git/submodules.js';
import { lockWorktree, prepareTaskWorktree, taskLockReason, unlockWorktree, worktreeHead } from '../git/worktree.js';
import type { Milestone, MilestoneId } from '../milestones/types.js';
import { callAgent, workerSettings } from './agent-call.js';
import { runCommand } from './commands.js';
import { branchFor, rel, type RunPaths } from './context.js';
import type { Config } from '../config/schema.js';
import type { RepoInfo } from '../git/repo.js';
import { copyConfiguredFiles } from './copy-files.js';
import { milestoneVars, renderTemplate } from './prompt.js';
import { runQualityGate, type QualityGateDeps } from './quality.js';
import { commitStep, type TaskOutcome } from './steps.js';
import type { RunRecorder, TaskRecorder } from './recorder.js';
import { crashPoint } from './crash-points.js';
import { isoNow } from './clock.js';
import { lastSession, TaskJournal, callToContinue, type StepLog } from './journal.js';
import { findWritesThroughLinks, isDependencyInstall, provisionDependencies, type ProvisionResult } from '../provision/index.js';

export type { TaskOutcome } from './steps.js';

/** Names the milestone the same way the task prompt does, so logs and scripted test servers can tell runs apart. */
function resumePrompt(m: Milestone): string {
  return (
    `You were interrupted before finishing milestone ${m.id}: ${m.title}. Continue where you left off and ` +
    'complete it; check the work already in this worktree first.'
  );
}

/**
 * `orchestrate retry`: the last round's findings for the worker; a session that cannot be continued also gets the
 * whole milestone (`fresh`).
 */
function retryPrompt(m: Milestone, feedback: string, fresh: string | undefined): string {
  const ask = `The work on milestone ${m.id}: ${m.title} was not accepted and is being retried.\n\n${feedback}\n\nFix all of this in this worktree and commit your changes.`;
  return fresh ? `${fresh}\n\n---\n\n${ask}` : ask;
}

/**
 * What running a task touches, beyond the quality gate's: the repository and the task worktrees' folder, the
 * milestones (same-stage dependencies), the run state (its record, its stage's base, through the recorder), set-up
 * settings, and whether this run resumes an earlier one.
 */
export interface TaskDeps extends QualityGateDeps {
  repo: Pick<RepoInfo, 'root' | 'commonDir'>;
  config: Pick<Config, 'agent' | 'budget' | 'retry_attempts' | 'git' | 'checks' | 'review' | 'worktrees' | 'resources'>;
  paths: Pick<RunPaths, 'runLogDir' | 'worktreeDir'>;
  milestones: ReadonlyMap<MilestoneId, Milestone>;
  recorder: Pick<RunRecorder, 'notify' | 'state' | 'forTask'>;
  /** True on --resume: existing task branches and worktrees are this run's own. */
  resuming: boolean;
}

/** Runs one milestone from worktree to an approved, committed branch. Never throws for the task's own failures. */
export async function runTask(ctx: TaskDeps, milestone: Milestone, signal: AbortSignal): Promise<TaskOutcome> {
  if (!ctx.recorder.state.tasks[milestone.id]) return { status: 'failed', reason: `no record for ${milestone.id}` };
  const task = ctx.recorder.forTask(milestone.id);
  task.record({ type: 'attempt-started', at: isoNow(ctx.clock) });
  const started = ctx.clock.now();
  const journal = new TaskJournal(ctx.journal, milestone.id);
  let outcome: TaskOutcome = { status: 'failed', reason: 'interrupted' };
  try {
    try {
      outcome = await runPhases(ctx, milestone, task, signal, journal);
    } catch (err) {
      // Ctrl-C in a terminal signals the whole foreground process group, git and the checks included: a step that
      // died of it is the interruption, not the task's failure (outcome stays "interrupted"). Anything else thrown
      // by a step (a bug, an adapter that throws) is this task's failure, never the whole run's: the task boundary.
      if (!signal.aborted) outcome = { status: 'failed', reason: `internal error: ${errorMessage(err)}` };
    }
    // Cut short by a stop (Ctrl-C, SIGTERM, a usage-limit stop), a task has not failed, whatever its last step said
    // (an agent the run stopped reports "aborted"): it is interrupted, back to pending, and --resume continues it.
    if (signal.aborted && outcome.status === 'failed') outcome = { status: 'interrupted', reason: interruptedReason(outcome.reason) };
    return outcome;
  } finally {
    // The task has ended (done, failed, needs attention): its worktree, kept for you to inspect, is no longer in
    // use. An interrupted or paused task keeps its lock: --resume continues in that worktree.
    if (!signal.aborted) await releaseWorktree(ctx, milestone.id);
    task.record({ type: 'attempt-ended', durationMs: ctx.clock.now() - started, at: isoNow(ctx.clock) });
    // An interruption is not an end: the next run continues the attempt where it stopped.
    if (!signal.aborted) {
      await journal
        .append({ t: 'task_end', status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}), rounds: task.current().rounds?.length ?? 0 })
        .catch((err: Error) => ctx.logger.error(err.message));
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

/**
 * Git refuses a worktree for a branch checked out elsewhere (the user looked at the task's branch in their own
 * checkout): a resume would fail the same way until that checkout is on another branch, so say exactly that.
 */
function worktreeProblem(err: Error, branch: string, target: string): string {
  const at = /already (?:checked out|used by worktree) at '([^']+)'/.exec(err.message)?.[1];
  if (!at) return `could not create the task's worktree: ${err.message}`;
  return (
    `branch ${branch} is checked out at ${at}, so git cannot give it its own worktree. ` +
    `Switch that checkout to another branch (git -C ${shellQuote(at)} switch ${shellQuote(target)}), then run orchestrate --resume`
  );
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** "interrupted" for Ctrl-C; with the cause when something else stopped the run (a usage limit with auto_resume off). */
function interruptedReason(why: string | undefined): string {
  if (!why || /^(interrupted|aborted)\b/.test(why)) return 'interrupted';
  return `interrupted (${why.split('\n')[0]}); orchestrate --resume continues it`;
}

async function runPhases(ctx: TaskDeps, m: Milestone, task: TaskRecorder, signal: AbortSignal, journal: TaskJournal): Promise<TaskOutcome> {
  const worktree = path.join(ctx.paths.worktreeDir, m.id);
  const stage = ctx.recorder.state.stages.find((s) => s.stage === m.stage);
  const rec = task.current();
  const baseSha = rec.baseSha ?? stage?.baseSha;
  if (!baseSha) return { status: 'failed', reason: `stage ${m.stage} has no base commit` };

  task.record({ type: 'phase-changed', phase: 'setup' });
  const known = journal.step('worktree') !== undefined;
  const lockReason = taskLockReason(ctx.recorder.state.runId, m.id);
  const prepared = await prepareTaskWorktree({ repoRoot: ctx.repo.root, worktreePath: worktree, branch: rec.branch, baseSha, reuse: ctx.resuming || known, lockReason }).catch((err: Error) => err);
  if (prepared instanceof Error) return { status: 'failed', reason: worktreeProblem(prepared, rec.branch, ctx.recorder.state.targetBranch) };
  if (prepared.kind === 'leftover') return { status: 'failed', reason: `${prepared.message}; fix: ${prepared.fix}` };
  const lock = prepared.lock ?? (await lockWorktree(ctx.repo.root, worktree, lockReason));
  if (lock.kind === 'locked_by_other') ctx.logger.warn(`[${m.id}] worktree ${rel(ctx.repo.root, worktree)} is locked by someone else (${lock.reason ?? 'no reason given'}); left as it is`);
  task.record({ type: 'worktree-ready', baseSha, worktree: rel(ctx.repo.root, worktree) });
  await journal.run('worktree', undefined, async () => ({ value: { base: baseSha } }));
  crashPoint('worktree ready');

  let provisioned: ProvisionResult | undefined;
  const setup = await journal.run('setup', undefined, async (prior) => {
    if (prepared.kind === 'reused' && !prior && (await worktreeHead(worktree)) !== baseSha) {
      // A worktree with work in it and no journal of its set-up (a run of an older version): never redo it.
      return { value: null };
    }
    // Cut off mid-set-up: no agent has worked here yet, so starting the set-up over from the base loses nothing.
    if (prior) await restartClean(ctx, task, worktree);
    const done = await setUpWorktree(ctx, m, worktree, signal);
    provisioned = done.provisioned;
    return done.problem ? { value: null, failure: done.problem } : signal.aborted ? { value: null, failure: 'interrupted' } : { value: null };
  });
  if (setup.failure) return { status: 'failed', reason: setup.failure };
  if (signal.aborted) return { status: 'failed', reason: 'interrupted' };

  task.record({ type: 'phase-changed', phase: 'agent' });
  const worker = await journal.run('worker', undefined, async (prior) => {
    const problem = await runWorker(ctx, m, task, worktree, signal, prior);
    return problem ? { value: null, failure: problem } : { value: null };
  });
  if (worker.failure) return { status: 'failed', reason: worker.failure };

  const hookFailure = await commitStep(ctx, m, task, worktree, journal, 0);
  // A refused commit still left changes: the quality gate sends the hook's output back to the agent.
  if (!hookFailure && task.current().commits === 0 && ctx.config.git.require_changes) {
    return { status: 'failed', reason: 'the agent finished without changing anything (set git.require_changes: false to allow this)' };
  }
  const outcome = await runQualityGate(ctx, m, task, worktree, signal, journal, hookFailure);
  await warnAboutWritesThroughLinks(ctx, m, worktree, provisioned);
  return outcome;
}

/** Hard-linked node_modules share file contents with the main checkout: say so if the task wrote into them in place. */
async function warnAboutWritesThroughLinks(ctx: TaskDeps, m: Milestone, worktree: string, provisioned: ProvisionResult | undefined): Promise<void> {
  if (provisioned?.method !== 'hardlink' || provisioned.since === undefined) return;
  const written = await findWritesThroughLinks({ worktree, since: provisioned.since });
  if (written.length === 0) return;
  ctx.logger.warn(
    `[${m.id}] files in the worktree's hard-linked node_modules were modified in place, which also changed them in the main checkout: ` +
      `${written.join(', ')}. Run npm ci in the main checkout to restore them, and set worktrees.provision to "auto" (copies) to keep worktrees' files their own.`,
  );
}

/**
 * Brings in same-stage dependencies' work, copies configured files, gives the worktree the main checkout's
 * dependencies when its lockfile is the same, runs set-up commands.
 */
async function setUpWorktree(ctx: TaskDeps, m: Milestone, worktree: string, signal: AbortSignal): Promise<{ problem?: string; provisioned?: ProvisionResult }> {
  const sameStageDeps = m.dependencies.map((d) => d.id).filter((id) => ctx.milestones.get(id)?.stage === m.stage);
  const who = sameStageDeps.length > 0 ? await identityArgs(worktree) : [];
  for (const dep of sameStageDeps) {
    const branch = branchFor(ctx.config, dep);
    const merged = await gitQuery(worktree, [...who, 'merge', '--no-ff', '--no-edit', '--no-verify', '-m', `Merge ${dep} into ${m.id} (same-stage dependency)`, branch]);
    if (merged === undefined) {
      await gitQuery(worktree, ['merge', '--abort']);
      return { problem: `could not bring in the work of its dependency ${dep} (merge conflict on ${branch})` };
    }
  }
  // After the same-stage merges: they may have moved a submodule's recorded commit.
  const submodules = await initSubmodules(worktree, ctx.repo.root);
  if (submodules.problem) {
    const { name, path: at, message } = submodules.problem;
    return { problem: `set-up: submodule ${name} (${at}) could not be initialised: ${message}` };
  }
  if (submodules.fetched.length > 0) ctx.logger.info(`[${m.id}] submodules fetched from their URL (not in the main checkout): ${submodules.fetched.join(', ')}`);
  await copyConfiguredFiles({
    repoRoot: ctx.repo.root,
    commonDir: ctx.repo.commonDir,
    worktree,
    files: ctx.config.worktrees.copy_files,
    logger: ctx.logger,
    label: `[${m.id}] `,
  });
  // After the same-stage merges: they may have changed the lockfile.
  const provision = await provisionDependencies({
    repoRoot: ctx.repo.root,
    worktree,
    mode: ctx.config.worktrees.provision,
    // A plain copy costs the tree's full size: keep the resource gate's free-disk floor (none when it is off).
    reserveBytes: ctx.config.resources.enabled ? ctx.config.resources.min_free_disk_mb * 1024 * 1024 : 0,
    signal,
    log: (message) => ctx.logger.info(`[${m.id}] ${message}`),
  });
  if (provision.kind === 'skipped') ctx.logger.debug(`[${m.id}] node_modules not provisioned: ${provision.reason}`);
  const provisioned = provision.kind === 'linked' ? provision : undefined;
  // A plain install (`npm ci`) would only delete the linked tree and install the same one again.
  const commands = (m.settings.setup ?? ctx.config.worktrees.setup).filter((command) => !(provisioned && isDependencyInstall(command)));
  for (const command of commands) {
    ctx.logger.info(`[${m.id}] set-up: ${command}`);
    // As the user by default (installs need the network and caches under HOME); agent.sandbox.setup: in bubblewrap.
    const sandbox = ctx.commandSandbox && ctx.config.agent.sandbox.setup ? { sandbox: { ...ctx.commandSandbox, network: 'host' as const } } : {};
    const result = await runCommand(command, { cwd: worktree, timeoutMs: ctx.config.checks.timeout * 1000, signal, ...sandbox });
    if (!result.ok) {
      const why = result.timedOut ? 'timed out' : `exited with ${result.exitCode}`;
      return { problem: `set-up command \`${command}\` ${why}:\n${result.outputTail.trim()}` };
    }
  }
  return provisioned ? { provisioned } : {};
}

/**
 * The first run of the worker, or the continuation of a cut-off one: its session when it had one (else the
 * transcript's result, when the agent had finished). `orchestrate retry` feedback goes with it. Returns the
 * failure, if any.
 */
async function runWorker(ctx: TaskDeps, m: Milestone, task: TaskRecorder, worktree: string, signal: AbortSignal, prior: StepLog | undefined): Promise<string | undefined> {
  const interrupted = lastSession(prior);
  const feedback = task.current().retryFeedback;
  const fresh = renderTemplate(ctx.templates.task, milestoneVars(m, task.current().branch));
  const prompt = feedback ? retryPrompt(m, feedback, interrupted ? undefined : fresh) : interrupted ? resumePrompt(m) : fresh;
  const cut = feedback ? undefined : callToContinue(prior);
  let result = await callAgent(ctx, m, task, signal, { purpose: 'agent', step: 'worker', cwd: worktree, prompt, ...(interrupted ? { resumeSessionId: interrupted } : {}), ...(cut ? { continues: cut } : {}), ...workerSettings(ctx, m) });
  // Told once: a later resume of this call is an ordinary continuation.
  if (feedback !== undefined) task.record({ type: 'retry-feedback-given' });
  if (!result.ok && result.failure?.kind === 'resume_failed') {
    ctx.logger.warn(`[${m.id}] session ${interrupted} could not be resumed; starting over in a clean worktree`);
    await restartClean(ctx, task, worktree);
    result = await callAgent(ctx, m, task, signal, { purpose: 'agent', step: 'worker', cwd: worktree, prompt: feedback ? retryPrompt(m, feedback, fresh) : fresh, ...workerSettings(ctx, m) });
  }
  if (result.ok) return undefined;
  const failure = result.failure ?? { kind: 'crashed', message: 'the agent failed' };
  return `${failure.kind}: ${failure.message}`;
}

/**
 * Starting over must not destroy commits: the old head is kept under refs/orchestrator/backup/ before the
 * branch is reset to its base.
 */
async function restartClean(ctx: TaskDeps, task: TaskRecorder, worktree: string): Promise<void> {
  const rec = task.current();
  const head = await worktreeHead(worktree);
  if (head && rec.baseSha && head !== rec.baseSha) {
    await gitRaw(worktree, ['update-ref', `refs/orchestrator/backup/${rec.id}-${Date.now()}`, head]);
  }
  await gitRaw(worktree, ['reset', '-q', '--hard', rec.baseSha ?? 'HEAD']);
  await gitRaw(worktree, ['clean', '-fdq']);
  task.record({ type: 'worktree-reset' });
  ctx.logger.info(`[${rec.id}] worktree reset to ${rec.baseSha?.slice(0, 7)}`);
}

/** Unlocks the task's worktree if this run locked it; a failure to unlock is not the task's failure. */
async function releaseWorktree(ctx: TaskDeps, id: string): Promise<void> {
  const worktree = path.join(ctx.paths.worktreeDir, id);
  await unlockWorktree(ctx.repo.root, worktree, taskLockReason(ctx.recorder.state.runId, id)).catch((err: unknown) =>
    ctx.logger.warn(`[${id}] could not unlock worktree ${rel(ctx.repo.root, worktree)}: ${(err as Error).message}`),
  );
}
