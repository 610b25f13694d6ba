import { z } from 'zod';
import { MILESTONE_ID_PATTERN } from '../milestones/types.js';
import { describeZodIssue } from '../util/describe-zod-issue.js';
import { refNameProblem } from '../util/ref-name.js';
import type { RunState } from './run-state.js';

/**
 * The whole shape of `run-state.json`. The file lives in the user's repository and anyone (a careless edit, a
 * tool, a hostile commit) can change it, so it is input like any other: a value of the wrong type is refused with
 * its path (`tasks.1A.stage: expected a number, got null`) instead of surfacing later as a TypeError.
 *
 * Objects are loose (unknown keys are kept, not stripped): a newer orchestrator may add fields, and saving the
 * state again must not drop them. Paths and branch names in the file (`branch`, `worktree`, `logDir`,
 * `transcripts`) are display only — the engine derives the real ones from the configuration and the task id.
 */

const count = z.number().int().nonnegative();
const amount = z.number().nonnegative().max(1e12);
const text = z.string();
const refName = z.string().superRefine((value, ctx) => {
  const problem = refNameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a branch name git accepts (${problem}): ${JSON.stringify(value)}` });
});
const milestoneId = z.string().regex(MILESTONE_ID_PATTERN, 'expected a milestone id such as "1A"');
const stageNumber = z.number().int().min(1).max(9);
/** The run id names the run's log folder (`<log_dir>/run-<id>`) and is printed: letters, digits, `_` and `-` only. */
const runId = z.string().superRefine((value, ctx) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(value)) {
    ctx.addIssue({ code: 'custom', message: `expected a run id such as "20261130_125913-b68b" (letters, digits, "_" and "-"), got ${JSON.stringify(value)}` });
  }
});

const usage = z.looseObject({
  inputTokens: count,
  outputTokens: count,
  cacheReadInputTokens: count,
  cacheCreationInputTokens: count,
});

const check = z.looseObject({
  command: text,
  ok: z.boolean(),
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  durationMs: amount,
  outputTail: text.optional(),
});

const finding = z.looseObject({
  severity: z.enum(['blocker', 'major', 'minor']),
  file: text.optional(),
  line: z.number().int().optional(),
  message: text,
});

const round = z.looseObject({
  round: count,
  at: text,
  checks: z.array(check),
  verdict: z.enum(['approve', 'request_changes']).optional(),
  summary: text.optional(),
  findings: z.array(finding),
  reviewCostUsd: amount,
});

const task = z.looseObject({
  id: milestoneId,
  stage: stageNumber,
  title: text,
  status: z.enum(['pending', 'blocked', 'running', 'done', 'failed', 'needs_attention', 'skipped']),
  phase: z.enum(['setup', 'agent', 'commit', 'checks', 'review', 'merge']).optional(),
  reason: text.optional(),
  branch: text,
  worktree: text,
  baseSha: text.optional(),
  headSha: text.optional(),
  sessionId: text.optional(),
  agentPid: z.number().int().min(2).optional(),
  agentStart: text.optional(),
  attempts: count,
  turns: count,
  costUsd: amount,
  usage,
  startedAt: text.optional(),
  finishedAt: text.optional(),
  durationMs: amount,
  agentMs: amount.optional(),
  commits: count.optional(),
  merged: z.boolean().optional(),
  conflictResolved: z.boolean().optional(),
  transcripts: z.array(text),
  rounds: z.array(round).optional(),
  estimateMinutes: amount.optional(),
  accepted: z.looseObject({ at: text, checks: z.array(check) }).optional(),
  retryFeedback: text.optional(),
});

const stage = z.looseObject({
  stage: stageNumber,
  status: z.enum(['pending', 'running', 'merging', 'merged', 'failed']),
  baseSha: text.optional(),
  mergedSha: text.optional(),
  note: text.optional(),
});

export const runStateSchema = z
  .looseObject({
    version: z.literal(1),
    runId,
    status: z.enum(['running', 'paused', 'completed', 'failed', 'interrupted', 'stopped']),
    startedAt: text,
    updatedAt: text,
    finishedAt: text.optional(),
    targetBranch: refName,
    targetStartSha: text,
    integrationBranch: refName.optional(),
    selected: z.array(milestoneId),
    stages: z.array(stage),
    tasks: z.record(milestoneId, task),
    pause: z.looseObject({ until: text, reason: text }).optional(),
    resourceWait: z.looseObject({ task: milestoneId, reasons: z.array(text), since: text }).optional(),
    logDir: text,
    message: text.optional(),
  })
  .superRefine((state, ctx) => {
    for (const [key, rec] of Object.entries(state.tasks)) {
      if (rec.id !== key) ctx.addIssue({ code: 'custom', path: ['tasks', key, 'id'], message: `the task under "${key}" says it is "${rec.id}"` });
      if (rec.stage !== Number(key.charAt(0))) {
        ctx.addIssue({ code: 'custom', path: ['tasks', key, 'stage'], message: `task ${key} belongs to stage ${key.charAt(0)}, not ${rec.stage}` });
      }
    }
  });

/** Compile-time guard: a field added to RunState must be added here too (or the file is trusted unchecked). */
const assertCovers = (s: z.infer<typeof runStateSchema>): RunState => s;
void assertCovers;

/**
 * Validates a parsed state file. Returns the state, or one line naming the first problems by their path in the
 * file (at most three), e.g. `tasks.1A.stage: expected a number, got null`.
 */
export function parseRunState(value: unknown): { ok: true; state: RunState } | { ok: false; problem: string } {
  const parsed = runStateSchema.safeParse(value, { reportInput: true });
  if (parsed.success) return { ok: true, state: parsed.data };
  const problems = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.map(String).join('.') || '(top level)'}: ${describeZodIssue(issue)}`);
  const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : '';
  return { ok: false, problem: `${problems.join('; ')}${more}` };
}
