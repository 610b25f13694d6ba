import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ReviewFinding } from '../review/verdict.js';
import type { CheckRecord, RoundRecord, TaskRecord } from '../state/run-state.js';

/**
 * What a person needs to act on a task that needs attention or failed: what each quality-gate round found, which
 * checks failed, where the agent's transcript is, and the command that continues the agent's session by hand.
 * Built from the task's record (and whether its run wrote the worker's sandbox settings file), so `status`, TASKS.md
 * and the `task_finished` event say the same.
 */
export interface Attention {
  /** Absolute path of the task's worktree. */
  worktree: string;
  branch: string;
  /** The worker's Claude Code session, when one was recorded. */
  sessionId: string | null;
  /** Absolute path of the last worker transcript (stream-json); null when the agent never ran. */
  transcript: string | null;
  /**
   * `cd <worktree> && claude --resume <sessionId>`: Claude Code resumes a session from any folder, but its tools
   * run in the current one, so the `cd` matters (see /work/shared/reference, "Resume and continue"). Null without a
   * session.
   */
  continueCommand: string | null;
  /** Every quality-gate round, oldest first. */
  rounds: AttentionRound[];
}

export interface AttentionRound {
  round: number;
  /** Null when the checks failed (no review then) or the review is off. */
  verdict: 'approve' | 'request_changes' | null;
  summary: string | null;
  findings: ReviewFinding[];
  failedChecks: FailedCheck[];
}

export interface FailedCheck {
  command: string;
  /** Null when it was killed (timeout) or could not start. */
  exitCode: number | null;
  timedOut: boolean;
  /** The end of its combined output (at most 2000 characters), secrets redacted. */
  outputTail: string;
}

/** True for the statuses a person has to act on. */
export function needsAction(t: Pick<TaskRecord, 'status'>): boolean {
  return t.status === 'needs_attention' || t.status === 'failed';
}

/**
 * The attention details of a task; `repoRoot` makes the recorded paths absolute (they are recorded relative to
 * it). `worktree` (absolute), when given, replaces the recorded one: a reader of the state file passes the one the
 * configuration derives, so an edited file cannot put another folder into the printed command.
 */
export function attentionOf(t: TaskRecord, repoRoot: string, worktree: string = path.resolve(repoRoot, t.worktree)): Attention {
  const sessionId = t.sessionId ?? null;
  return {
    worktree,
    branch: t.branch,
    sessionId,
    transcript: lastWorkerTranscript(t.transcripts ?? [], repoRoot),
    continueCommand: sessionId ? continueCommand(worktree, sessionId, workerSettings(t, repoRoot)) : null,
    rounds: (Array.isArray(t.rounds) ? t.rounds : []).map(roundView),
  };
}

/**
 * `cd <worktree> && claude --resume <id>`, plus `--settings <file>` (absolute) when the run sandboxed the worker:
 * without it the session would continue outside the sandbox, under the user's own Claude Code settings.
 */
export function continueCommand(worktree: string, sessionId: string, settingsFile?: string): string {
  return `cd ${shellQuote(worktree)} && claude --resume ${shellQuote(sessionId)}${settingsFile ? ` --settings ${shellQuote(settingsFile)}` : ''}`;
}

/** Where a run writes the worker's sandbox settings of task `id` (agent-call.ts): beside its transcripts. */
export function handSettingsFile(runLogDir: string, id: string): string {
  return path.join(runLogDir, `${id}.settings.json`);
}

/**
 * The task's worker settings file, when its run wrote one (sandbox on): found beside the last worker transcript.
 * Reads the file system (one stat), so a run without the sandbox prints no `--settings`.
 */
function workerSettings(t: TaskRecord, repoRoot: string): string | undefined {
  const transcript = lastWorkerTranscript(t.transcripts ?? [], repoRoot);
  if (transcript === null) return undefined;
  const file = handSettingsFile(path.dirname(transcript), t.id);
  return existsSync(file) ? file : undefined;
}

function roundView(r: RoundRecord): AttentionRound {
  return {
    round: r.round,
    verdict: r.verdict ?? null,
    summary: r.summary ?? null,
    findings: r.findings ?? [],
    failedChecks: (r.checks ?? []).filter((c) => !c.ok).map(failedCheck),
  };
}

function failedCheck(c: CheckRecord): FailedCheck {
  return { command: c.command, exitCode: c.exitCode, timedOut: c.timedOut, outputTail: c.outputTail ?? '' };
}

/** Transcripts are named `<id>.<purpose>-<attempt>.jsonl` (run/agent-call.ts); the worker's purpose is `agent`. */
function lastWorkerTranscript(transcripts: readonly string[], repoRoot: string): string | null {
  const workers = transcripts.filter((f) => /\.agent-\d+\.jsonl$/.test(f));
  const last = workers.at(-1) ?? transcripts.at(-1);
  return last === undefined ? null : path.resolve(repoRoot, last);
}

/** `file:line` (or the file alone, or nothing) of a finding, as editors and terminals link it. */
export function findingPlace(f: ReviewFinding): string {
  if (!f.file) return '';
  return f.line ? `${f.file}:${f.line}` : f.file;
}

/** One line per finding: `[major] src/a.ts:12 message`. */
export function describeFinding(f: ReviewFinding): string {
  const place = findingPlace(f);
  return `[${f.severity}] ${place ? `${place} ` : ''}${f.message.replace(/\s*\n\s*/g, ' ')}`;
}

export function describeFailedCheck(c: FailedCheck): string {
  return `\`${c.command}\` ${c.timedOut ? 'timed out' : c.exitCode === null ? 'could not run' : `exited with ${c.exitCode}`}`;
}

/**
 * The feedback `orchestrate retry` hands the next worker call: the last round's failed checks (with their output)
 * and the reviewer's findings, or the reason of a task that failed before any round.
 */
export function retryFeedback(t: TaskRecord): string {
  const last = (Array.isArray(t.rounds) ? t.rounds : []).map(roundView).at(-1);
  const parts: string[] = [];
  if (last && last.failedChecks.length > 0) {
    parts.push('These checks failed:');
    for (const c of last.failedChecks) parts.push(`- ${describeFailedCheck(c)}:\n\`\`\`\n${c.outputTail.trim()}\n\`\`\``);
  }
  if (last && last.verdict === 'request_changes') {
    parts.push(`The reviewer requested changes${last.summary ? `: ${last.summary}` : '.'}`);
    for (const f of last.findings) parts.push(`- ${describeFinding(f)}`);
  }
  if (parts.length === 0 && t.reason) parts.push(`The last attempt ended with: ${t.reason}`);
  return parts.join('\n');
}

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
