import type { Milestone } from '../milestones/types.js';
import { diffForReview, runReview } from '../review/review.js';
import { formatFindings, type Verdict } from '../review/verdict.js';
import type { CheckRecord, RoundRecord } from '../state/run-state.js';
import { callAgent, optional, workerSettings, type AgentCallDeps } from './agent-call.js';
import { runCommand } from './commands.js';
import type { Config } from '../config/schema.js';
import type { Templates } from './context.js';
import { crashPoint } from './crash-points.js';
import { isoNow } from './clock.js';
import { milestoneVars, renderTemplate } from './prompt.js';
import { commitStep, type CommitDeps, type CommitRefusal, type TaskOutcome } from './steps.js';
import type { TaskRecorder } from './recorder.js';
import { lastSession, callToContinue, type CallLog, type StepLog, type TaskJournal } from './journal.js';
import { describeHookFailure } from '../report/hook-failure.js';
import { describeNestedRepositories } from '../git/nested.js';

/**
 * What the quality gate touches: agent calls (review, remediation), commits, the checks and review settings, the
 * task and review templates, and the sandbox checks run in.
 */
export interface QualityGateDeps extends AgentCallDeps, CommitDeps {
  config: Pick<Config, 'agent' | 'budget' | 'retry_attempts' | 'git' | 'checks' | 'review'>;
  templates: Pick<Templates, 'task' | 'review'>;
}

/**
 * "Done" means checks pass and a reviewer approves. Each failed round sends the findings back to the worker's own
 * session, at most review.max_rounds times; a task still not approved then needs attention and is not merged.
 * Every round's checks, review and remediation are journal steps: a resumed run replays the finished ones and
 * continues the one it was cut off in.
 */
export async function runQualityGate(
  ctx: QualityGateDeps,
  m: Milestone,
  task: TaskRecorder,
  worktree: string,
  signal: AbortSignal,
  journal: TaskJournal,
  /** A commit hook that refused the worker's commit: the first round fails on it. */
  firstCommitRefusal?: CommitRefusal,
): Promise<TaskOutcome> {
  let hookFailure = firstCommitRefusal;
  // Rebuilt from the journal as the rounds replay, so a crash between a round and the state save loses nothing.
  task.record({ type: 'rounds-reset' });
  const maxRemediations = ctx.config.review.max_rounds;
  // An earlier attempt that ended (needs attention, failed) used its budget: a resume gives a fresh one.
  const last = journal.lastEnd();
  const spentBefore = last && last.status !== 'done' ? Math.max(0, last.rounds - 1) : 0;
  for (let r = 1; ; r++) {
    if (signal.aborted) return { status: 'failed', reason: 'interrupted' };
    task.record({ type: 'round-started', round: r, at: isoNow(ctx.clock) });
    task.record({ type: 'phase-changed', phase: 'checks' });
    const checks = await journal.run(`checks-${r}`, undefined, async () => {
      const value = await runChecks(ctx, m, worktree, signal);
      // A check killed by Ctrl-C says nothing about the work.
      return signal.aborted ? { value, failure: 'interrupted' } : { value };
    });
    if (checks.failure) return { status: 'failed', reason: checks.failure };
    // A refused commit is a failed check; the configured checks still run, so the agent gets all feedback at once.
    const roundChecks = [...(hookFailure ? [hookCheck(hookFailure)] : []), ...checks.value];
    task.record({ type: 'checks-recorded', round: r, checks: roundChecks });
    const failedChecks = roundChecks.filter((c) => !c.ok);
    let verdict: Verdict | undefined;
    if (failedChecks.length === 0 && reviewEnabled(ctx, m)) {
      task.record({ type: 'phase-changed', phase: 'review' });
      const reviewed = await journal.run<{ verdict?: Verdict; costUsd: number }>(`review-${r}`, undefined, async (prior) => {
        const costBefore = task.current().costUsd;
        const outcome = await review(ctx, m, task, worktree, signal, `review-${r}`, callToContinue(prior));
        const costUsd = Math.round((task.current().costUsd - costBefore) * 1e6) / 1e6; // no float noise in reports
        if (outcome.kind === 'error') return { value: { costUsd }, failure: outcome.message };
        return { value: { verdict: outcome.verdict, costUsd } };
      });
      const given = reviewed.failure ? undefined : reviewed.value.verdict;
      task.record({ type: 'review-recorded', round: r, reviewCostUsd: reviewed.value.costUsd, ...(given ? { verdict: { verdict: given.verdict, summary: given.summary, findings: given.findings } } : {}) });
      if (!given) return { status: 'failed', reason: reviewed.failure ?? 'the review gave no verdict' };
      verdict = given;
    }
    const round = task.current().rounds!.at(-1)!;
    ctx.logger.info(`[${m.id}] round ${round.round}: ${describeRound(round)}`);
    if (failedChecks.length === 0 && (verdict === undefined || verdict.verdict === 'approve')) return { status: 'done' };
    if (r - 1 - spentBefore >= maxRemediations) {
      const hookNote = hookFailure ? `; ${refusalNote(hookFailure)}` : '';
      return { status: 'needs_attention', reason: `not approved after ${plural(round.round, 'round')}: ${describeRound(round)}${hookNote}` };
    }

    task.record({ type: 'phase-changed', phase: 'agent' });
    // `orchestrate retry` recorded what the next worker call is told; the finished worker's next call is this one.
    const key = `remediation-${r}`;
    const text = (!journal.isDone(key) && task.current().retryFeedback) || feedback(failedChecks, verdict, hookFailure);
    const remediation = await journal.run(key, { feedback: text }, async (prior) => {
      if (task.current().retryFeedback !== undefined) task.record({ type: 'retry-feedback-given' });
      // Continued after a crash: the same findings and check output as when it started, from the journal.
      const given = (prior?.input as { feedback?: string } | undefined)?.feedback ?? text;
      const problem = await remediate(ctx, m, task, worktree, signal, key, given, prior, journal);
      return problem ? { value: null, failure: problem } : { value: null };
    });
    if (remediation.failure) return { status: 'failed', reason: remediation.failure };
    hookFailure = await commitStep(ctx, m, task, worktree, journal, r);
  }
}

/** Recorded as a check named after the hook (or the nested repository), so TASKS.md, status and the feedback show it like any check. */
function hookCheck(refusal: CommitRefusal): CheckRecord {
  switch (refusal.kind) {
    case 'hook_failed':
      return { command: `${refusal.hook} hook`, ok: false, exitCode: refusal.exitCode ?? null, timedOut: refusal.stopped?.by === 'timeout', durationMs: 0, outputTail: refusal.output.slice(-2000) };
    case 'nested_repository':
      return { command: 'no nested git repository', ok: false, exitCode: null, timedOut: false, durationMs: 0, outputTail: describeNestedRepositories(refusal.nested).slice(-2000) };
    default: {
      const never: never = refusal;
      return never;
    }
  }
}

/** The refusal in the needs-attention reason: what the hook said, or which nested repositories are in the way. */
function refusalNote(refusal: CommitRefusal): string {
  switch (refusal.kind) {
    case 'hook_failed':
      return `the ${refusal.hook} hook says: ${lastLines(refusal.output)}`;
    case 'nested_repository':
      return `nested git ${refusal.nested.length === 1 ? 'repository' : 'repositories'} not committed: ${refusal.nested.map((n) => n.path).join(', ')} (remove ${refusal.nested.length === 1 ? 'its' : 'their'} .git, then orchestrate retry or accept)`;
    default: {
      const never: never = refusal;
      return never;
    }
  }
}

function lastLines(output: string): string {
  const lines = output.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-3).join(' / ').slice(-300) || '(no output)';
}

function reviewEnabled(ctx: QualityGateDeps, m: Milestone): boolean {
  return m.settings.review ?? ctx.config.review.enabled;
}

/** Front matter `checks` replace the configured defaults (so `checks: []` turns them off for one milestone). */
async function runChecks(ctx: QualityGateDeps, m: Milestone, cwd: string, signal: AbortSignal): Promise<CheckRecord[]> {
  const commands = m.settings.checks ?? ctx.config.checks.commands;
  const results: CheckRecord[] = [];
  for (const command of commands) {
    const r = await runCommand(command, { cwd, timeoutMs: ctx.config.checks.timeout * 1000, signal, ...(ctx.commandSandbox ? { sandbox: ctx.commandSandbox } : {}) });
    results.push({
      command,
      ok: r.ok,
      exitCode: r.exitCode,
      timedOut: r.timedOut,
      durationMs: r.durationMs,
      ...(r.ok ? {} : { outputTail: r.outputTail.slice(-2000) }),
    });
    ctx.logger.info(`[${m.id}] check \`${command}\` ${r.ok ? 'passed' : r.timedOut ? 'timed out' : `failed (exit ${r.exitCode})`}`);
    crashPoint('check ran, checks not recorded');
  }
  return results;
}

/** A review is never continued: an interrupted one is asked again from the start (unless its transcript holds the verdict). */
async function review(ctx: QualityGateDeps, m: Milestone, task: TaskRecorder, worktree: string, signal: AbortSignal, step: string, cut: CallLog | undefined) {
  let recoverable = cut;
  const rec = task.current();
  const head = rec.headSha ?? 'HEAD';
  const base = rec.baseSha ?? head;
  const prompt = renderTemplate(ctx.templates.review, {
    ...milestoneVars(m, rec.branch),
    base: base.slice(0, 12),
    head: head.slice(0, 12),
    diff: await diffForReview(worktree, base, head),
  });
  return runReview({
    prompt,
    invoke: (req) => {
      // Only the first question can be the one whose answer the transcript may already hold.
      const continues = recoverable;
      recoverable = undefined;
      return callAgent(ctx, m, task, signal, {
        purpose: 'review',
        step,
        cwd: worktree,
        ...req,
        ...optional('model', ctx.config.review.model ?? undefined),
        ...(continues ? { continues } : {}),
      });
    },
  });
}

/**
 * Sends the findings to the worker's own session. Cut off before: its transcript's result if it had finished,
 * else the same session again, told it was interrupted and given the same findings once more.
 */
async function remediate(ctx: QualityGateDeps, m: Milestone, task: TaskRecorder, worktree: string, signal: AbortSignal, step: string, text: string, prior: StepLog | undefined, journal: TaskJournal): Promise<string | undefined> {
  const request = `The work on milestone ${m.id}: ${m.title} is not accepted yet.\n\n${text}\n\nFix all of this in this worktree; the orchestrator commits your changes when you finish.`;
  const continued = lastSession(prior);
  const prompt = continued ? `You were interrupted while fixing the findings below; check what you already changed, then finish.\n\n${request}` : request;
  const rec = task.current();
  const session = continued ?? journal.workerSession() ?? rec.sessionId;
  const cut = callToContinue(prior);
  const result = await callAgent(ctx, m, task, signal, {
    purpose: 'agent',
    step,
    cwd: worktree,
    // Without a session to continue, a fresh one gets the whole milestone as well.
    prompt: session ? prompt : `${renderTemplate(ctx.templates.task, milestoneVars(m, rec.branch))}\n\n---\n\n${prompt}`,
    ...(session ? { resumeSessionId: session } : {}),
    ...(cut ? { continues: cut } : {}),
    ...workerSettings(ctx, m),
  });
  return result.ok ? undefined : `remediation failed: ${result.failure?.kind}: ${result.failure?.message ?? ''}`;
}

function feedback(failedChecks: readonly CheckRecord[], verdict: Verdict | undefined, hook: CommitRefusal | undefined): string {
  const parts: string[] = [];
  if (failedChecks.length > 0) {
    parts.push('These checks failed:');
    for (const c of failedChecks) {
      if (hook?.kind === 'nested_repository' && c.command === hookCheck(hook).command) {
        parts.push(`- ${describeNestedRepositories(hook.nested).replace(/^the worktree/, 'your worktree')}\nThe orchestrator commits your work from the worktree's own repository; do not create git repositories inside it.`);
        continue;
      }
      if (hook?.kind === 'hook_failed' && c.command === hookCheck(hook).command) {
        parts.push(`- ${describeHookFailure(hook).replace(/^the /, "the repository's ")}; your changes are staged but not committed:\n\`\`\`\n${(c.outputTail ?? '').trim()}\n\`\`\``);
        continue;
      }
      parts.push(`- \`${c.command}\` ${c.timedOut ? 'timed out' : `exited with ${c.exitCode}`}:\n\`\`\`\n${(c.outputTail ?? '').trim()}\n\`\`\``);
    }
  }
  if (verdict && verdict.verdict !== 'approve') {
    parts.push(`The reviewer requested changes: ${verdict.summary}`);
    if (verdict.findings.length > 0) parts.push(formatFindings(verdict.findings));
  }
  return parts.join('\n');
}

function describeRound(r: RoundRecord): string {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `\`${c.command}\``);
  if (failed.length > 0) return `checks failed: ${failed.join(', ')}`;
  const checks = r.checks.length > 0 ? `${plural(r.checks.length, 'check')} passed, ` : '';
  if (!r.verdict) return `${checks}no review`.replace(/, no review$/, '; no review');
  return `${checks}review: ${r.verdict}${r.summary ? ` (${r.summary})` : ''}`;
}

/** `1 round`, `2 rounds`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
