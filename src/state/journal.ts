import { existsSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { syncDir, writeFileAtomic } from './atomic.js';
import { addUsage } from './run-state.js';

/**
 * The run journal: every step of every task and stage, appended as one JSON line (NDJSON) with its outcome before
 * the next step starts, each line flushed to disk (fdatasync) before the step it describes goes on. A resumed run
 * replays it: a step recorded as done is never run again, a step recorded as started but not done is continued as
 * that step. The file lives next to the run state (`<state_dir>/journal.ndjson`); its first line names the run.
 *
 * Steps are named by a key that the task's own flow makes deterministic (see `StepKey`), so the n-th time the flow
 * reaches a step it finds the same key: `worktree`, `setup`, `worker`, `commit-<round>`, `checks-<round>`,
 * `review-<round>`, `remediation-<round>`, `merge-<stage>`, `resolve-<stage>`, `advance-<stage>`.
 */
export const JOURNAL_FILE = 'journal.ndjson';
export const JOURNAL_VERSION = 1;

/** Tokens as the agent reports them (same shape as the run state's task usage). */
export interface JournalUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

/** One line of the journal. `task` is a milestone id, or `stage-<n>` for a stage's own steps. `at`: ISO time. */
export type JournalEntry =
  | { t: 'run'; v: typeof JOURNAL_VERSION; runId: string; at: string }
  /** A step begins; `input` is what a continuation needs (a remediation's feedback, a merge's start commit). */
  | { t: 'step'; task: string; step: string; input?: unknown; at: string }
  /** One agent process of a step starts: its transcript (relative to the repository) and the session it continues. */
  | { t: 'call'; task: string; step: string; n: number; transcript: string; resumeSessionId?: string; at: string }
  /** The agent's session id, as soon as the agent reports it: an interrupted call continues this session. */
  | { t: 'session'; task: string; step: string; sessionId: string; at: string }
  /**
   * One agent process of a step ended (its cost is booked to the task exactly once, from this line). `output`: what
   * the step kept of a call that ended well, taken before this line was written (a conflict resolution's tree), so a
   * crash before the step's `done` loses nothing; absent in journals written before it existed.
   */
  | { t: 'call_end'; task: string; step: string; n: number; ok: boolean; sessionId?: string; costUsd: number; usage: JournalUsage; turns: number; failure?: string; output?: unknown; at: string }
  /** A step finished successfully; `output` is what replaying it returns instead of running it. */
  | { t: 'done'; task: string; step: string; output?: unknown; at: string }
  /** A step ended in a failure: a resumed run runs it again. */
  | { t: 'failed'; task: string; step: string; reason: string; at: string }
  /** A task attempt ended (done, failed, needs_attention). */
  | { t: 'task_end'; task: string; status: string; reason?: string; rounds: number; at: string };

/** Distributes Omit over the union, so an entry can be built without its time. */
export type NewJournalEntry = JournalEntry extends infer E ? (E extends unknown ? Omit<E, 'at'> : never) : never;

export interface CallLog {
  n: number;
  transcript: string;
  resumeSessionId?: string;
  sessionId?: string;
  end?: Extract<JournalEntry, { t: 'call_end' }>;
}

export interface StepLog {
  step: string;
  status: 'started' | 'done' | 'failed';
  input?: unknown;
  output?: unknown;
  reason?: string;
  calls: CallLog[];
}

export interface TaskLog {
  steps: Map<string, StepLog>;
  /** Agent processes started for this task (all steps): the next transcript number is this + 1. */
  calls: number;
  costUsd: number;
  turns: number;
  usage: JournalUsage;
  /** The last attempt's end, if the task ended before (a resume then starts a new attempt). */
  lastEnd?: Extract<JournalEntry, { t: 'task_end' }>;
}

export interface JournalView {
  runId?: string;
  tasks: Map<string, TaskLog>;
}

function emptyTaskLog(): TaskLog {
  return { steps: new Map(), calls: 0, costUsd: 0, turns: 0, usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 } };
}

/** Pure: folds one entry into the view (mutating it, for speed while replaying thousands of lines). */
export function applyEntry(view: JournalView, e: JournalEntry): JournalView {
  if (e.t === 'run') {
    view.runId = e.runId;
    return view;
  }
  let task = view.tasks.get(e.task);
  if (!task) view.tasks.set(e.task, (task = emptyTaskLog()));
  switch (e.t) {
    case 'step': {
      // A step started again (after a failure, or continued after a crash) keeps its calls: they hold the session.
      const before = task.steps.get(e.step);
      task.steps.set(e.step, { step: e.step, status: 'started', calls: before?.calls ?? [], ...(e.input !== undefined ? { input: e.input } : before?.input !== undefined ? { input: before.input } : {}) });
      break;
    }
    case 'call': {
      const step = stepOf(task, e.step);
      step.calls.push({ n: e.n, transcript: e.transcript, ...(e.resumeSessionId ? { resumeSessionId: e.resumeSessionId } : {}) });
      task.calls = Math.max(task.calls, e.n);
      break;
    }
    case 'session': {
      const call = stepOf(task, e.step).calls.at(-1);
      if (call) call.sessionId = e.sessionId;
      break;
    }
    case 'call_end': {
      const call = stepOf(task, e.step).calls.find((c) => c.n === e.n);
      if (call) {
        call.end = e;
        if (e.sessionId) call.sessionId = e.sessionId;
      }
      task.costUsd += e.costUsd;
      task.turns += e.turns;
      addUsage(task.usage, e.usage);
      break;
    }
    case 'done': {
      const step = stepOf(task, e.step);
      step.status = 'done';
      if (e.output !== undefined) step.output = e.output;
      break;
    }
    case 'failed': {
      const step = stepOf(task, e.step);
      step.status = 'failed';
      step.reason = e.reason;
      break;
    }
    case 'task_end':
      task.lastEnd = e;
      break;
    default: {
      const never: never = e;
      return never;
    }
  }
  return view;
}

function stepOf(task: TaskLog, key: string): StepLog {
  let step = task.steps.get(key);
  if (!step) task.steps.set(key, (step = { step: key, status: 'started', calls: [] }));
  return step;
}

export function replayJournal(entries: readonly JournalEntry[]): JournalView {
  const view: JournalView = { tasks: new Map() };
  for (const e of entries) applyEntry(view, e);
  return view;
}

/**
 * Reads a journal. A line cut short by a crash mid-append (only ever the last one) is dropped: its step was not
 * recorded, so it runs again. Returns [] when the file does not exist.
 */
export function readJournal(file: string): JournalEntry[] {
  if (!existsSync(file)) return [];
  const entries: JournalEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isEntry(value)) entries.push(value);
    } catch {
      /* a torn last line */
    }
  }
  return entries;
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { t?: unknown; task?: unknown; step?: unknown };
  if (v.t === 'run') return typeof (value as { runId?: unknown }).runId === 'string';
  return typeof v.t === 'string' && typeof v.task === 'string' && (v.t === 'task_end' || typeof v.step === 'string');
}

/** Truncates the file after its last newline, when something follows it (a torn last line). */
async function cutTornTail(file: string): Promise<void> {
  const content = readFileSync(file);
  const end = content.lastIndexOf(0x0a) + 1;
  if (end === content.length) return;
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(end);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Appends entries, one at a time in call order, each flushed to disk before its promise resolves; the view is kept
 * up to date as entries are written, so the engine can ask it what is done. `onWritten` runs after each durable
 * append (tests hang crash points there).
 */
export class JournalWriter {
  private chain: Promise<void> = Promise.resolve();
  private handle: FileHandle | undefined;
  private failed: Error | undefined;
  /** On a resume: why the journal found was not this run's and a new one was started ("was missing", …). */
  replaced: string | undefined;

  private constructor(
    readonly file: string,
    readonly view: JournalView,
    private readonly onWritten: (e: JournalEntry) => void,
  ) {}

  /**
   * Opens the journal of run `runId`: on a resume the existing one is continued (its entries replayed into `view`);
   * otherwise, or when the file belongs to another run, it is replaced by a new one. Throws on I/O errors.
   */
  static async open(stateDir: string, runId: string, resume: boolean, onWritten: (e: JournalEntry) => void = () => undefined): Promise<JournalWriter> {
    const file = path.join(stateDir, JOURNAL_FILE);
    const existed = existsSync(file);
    const replayed = replayJournal(resume ? readJournal(file) : []);
    // Another run's journal (or none) says nothing about this one.
    const view: JournalView = replayed.runId === runId ? replayed : { tasks: new Map() };
    if (view.runId !== runId) {
      const header: JournalEntry = { t: 'run', v: JOURNAL_VERSION, runId, at: new Date().toISOString() };
      await writeFileAtomic(file, `${JSON.stringify(header)}\n`);
      applyEntry(view, header);
    }
    // A line torn by a crash mid-append has no newline: appending after it would glue the next entry onto it, and
    // both would be dropped by every later replay. Cut it off first (readJournal dropped it already).
    if (view.runId === runId) await cutTornTail(file);
    const writer = new JournalWriter(file, view, onWritten);
    if (resume && replayed.runId !== runId) writer.replaced = replayed.runId === undefined ? (existed ? 'held no entry of this run' : 'was missing') : `belonged to run ${replayed.runId}`;
    writer.handle = await open(file, 'a');
    await syncDir(path.dirname(file));
    return writer;
  }

  /** Records one entry durably. Rejects when the disk refuses: going on would risk running a step twice. */
  append(entry: NewJournalEntry): Promise<void> {
    const full = { ...entry, at: new Date().toISOString() } as JournalEntry;
    applyEntry(this.view, full);
    const next = this.chain.then(async () => {
      if (this.failed) throw this.failed;
      const handle = this.handle;
      if (!handle) throw new Error('the run journal is closed');
      try {
        await handle.write(`${JSON.stringify(full)}\n`);
        await handle.datasync();
      } catch (err) {
        this.failed = new Error(`could not write the run journal ${this.file}: ${(err as Error).message}`);
        throw this.failed;
      }
      this.onWritten(full);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle?.close();
    this.handle = undefined;
  }
}
