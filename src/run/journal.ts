import type { CallLog, JournalWriter, NewJournalEntry, StepLog, TaskLog } from '../state/journal.js';

export type { CallLog, StepLog } from '../state/journal.js';

/** What a step's body answers: its value, and the failure (if any) that keeps the step from counting as done. */
export interface StepEnd<T> {
  value: T;
  /** Set when the step did not do its job (an agent failure, an interruption): a resumed run runs it again. */
  failure?: string;
}

/**
 * One task's (or stage's) view of the run journal: which steps are done, with what outcome, and which were cut
 * off. `run` is the exactly-once primitive: a step recorded as done returns its recorded value and runs nothing.
 */
export class TaskJournal {
  constructor(
    private readonly writer: JournalWriter,
    /** A milestone id, or `stage-<n>`. */
    readonly task: string,
  ) {}

  private get log(): TaskLog | undefined {
    return this.writer.view.tasks.get(this.task);
  }

  step(key: string): StepLog | undefined {
    return this.log?.steps.get(key);
  }

  isDone(key: string): boolean {
    return this.step(key)?.status === 'done';
  }

  /** The outcome of this task's previous attempt, when an earlier run ended it (a resume then tries again). */
  lastEnd(): TaskLog['lastEnd'] {
    return this.log?.lastEnd;
  }

  /** Agent processes recorded for this task so far, all steps together. */
  callCount(): number {
    return this.log?.calls ?? 0;
  }

  /** The worker's latest session (first run or remediation): remediation continues it. */
  workerSession(): string | undefined {
    let session: string | undefined;
    for (const step of this.log?.steps.values() ?? []) {
      if (step.step !== 'worker' && !step.step.startsWith('remediation-')) continue;
      for (const call of step.calls) session = call.sessionId ?? session;
    }
    return session;
  }

  append(entry: DistributiveOmit<NewJournalEntry, 'task'>): Promise<void> {
    return this.writer.append({ ...entry, task: this.task } as NewJournalEntry);
  }

  /**
   * Runs step `key` exactly once across crashes. Done before: its recorded value, nothing runs. Otherwise the step
   * is recorded as started (with `input`, or the input it was first started with) and `body` runs, told what an
   * earlier, unfinished try left (`prior`: its input and agent calls) so it can continue rather than restart. Its
   * value is recorded as the step's outcome, or, with a failure, the step is recorded as failed (to run again).
   * Values must be JSON data.
   */
  async run<T>(key: string, input: unknown, body: (prior: StepLog | undefined) => Promise<StepEnd<T>>): Promise<StepEnd<T>> {
    const prior = this.step(key);
    if (prior?.status === 'done') return { value: prior.output as T };
    const snapshot = prior ? structuredClone(prior) : undefined;
    await this.append({ t: 'step', step: key, ...(input !== undefined ? { input } : {}) });
    const end = await body(snapshot);
    if (end.failure !== undefined) await this.append({ t: 'failed', step: key, reason: end.failure });
    else await this.append({ t: 'done', step: key, ...(end.value !== undefined ? { output: end.value } : {}) });
    return end;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * The agent call an unfinished step stopped at, if its outcome may already be known: its last call when that never
 * ended (the transcript may hold the result) or ended well (recorded, the step just never got to record itself).
 */
export function callToContinue(prior: StepLog | undefined): CallLog | undefined {
  const last = prior?.calls.at(-1);
  return last && (!last.end || last.end.ok) ? last : undefined;
}

/** The session an earlier try of a step had, to continue it. */
export function lastSession(prior: StepLog | undefined): string | undefined {
  for (const call of [...(prior?.calls ?? [])].reverse()) if (call.sessionId) return call.sessionId;
  return undefined;
}
