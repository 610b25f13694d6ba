import type { AgentRunResult } from '../agents/types.js';
import { systemClock, type Clock } from './clock.js';
import type { MilestoneId } from '../milestones/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../report/logger.js';
import type { RunLevelEvent } from '../state/run-events.js';
import type { RunState } from '../state/run-state.js';
import { localDateTime } from '../report/local-time.js';

/** What a pause needs of the run: its settings, the pause as the run state has it now, and where to record one. */
export interface PauseDeps {
  config: Config;
  logger: Logger;
  state: () => Pick<RunState, 'pause'>;
  record: (event: Extract<RunLevelEvent, { type: 'paused' | 'pause-cleared' }>) => void;
}

/** Failures that a wait cures: a subscription usage limit, or API rate limiting left after the CLI's own retries. */
export function limitKind(result: AgentRunResult): 'usage_limit' | 'rate_limited' | undefined {
  const kind = result.failure?.kind;
  return kind === 'usage_limit' || kind === 'rate_limited' ? kind : undefined;
}

/** Extra time after a reset the CLI announced, so the first request after it is not refused again. */
const RESET_MARGIN_MS = 5_000;
/** The longest single backoff when no reset time is known. */
const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * When to try again: the reset time the CLI reported (plus a margin), else `claude_rate_limit_wait` doubled per attempt, capped,
 * with ±20 % jitter so parallel tasks do not all come back in the same second. Pure (random and clock injected).
 */
export function retryDeadline(opts: { result: AgentRunResult; attempt: number; baseWaitSeconds: number; now: number; random: () => number }): number {
  const { result, attempt, now } = opts;
  // A known reset is the answer, even one already past (a slow start can outlast a short limit): then at once.
  if (result.failure?.kind === 'usage_limit' && result.resetsAt !== undefined) {
    return Math.max(now, result.resetsAt + RESET_MARGIN_MS);
  }
  const backoff = Math.min(opts.baseWaitSeconds * 1000 * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
  const jitter = 1 + (opts.random() * 0.4 - 0.2);
  return now + Math.round(backoff * jitter);
}

/**
 * One pause for the whole run: while it lasts no agent starts (the scheduler's beforeStart waits on it) and the
 * tasks that hit the limit wait to resume their sessions. The deadline is in the state file, so a restarted run
 * honours it. With auto_resume off, the first limit stops the run instead (exit 75, come back later).
 */
export class PauseController {
  constructor(
    private readonly ctx: PauseDeps,
    private readonly stopRun: (reason: string) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Records a pause for a task's limit; resolves true once it may retry, false when the run is stopping instead. */
  async pauseFor(id: MilestoneId, result: AgentRunResult, attempt: number, signal: AbortSignal): Promise<boolean> {
    const deadline = retryDeadline({ result, attempt, baseWaitSeconds: this.ctx.config.claude_rate_limit_wait, now: this.clock.now(), random: Math.random });
    const reason = `${id}: ${result.failure?.kind}: ${result.failure?.message ?? ''}`.trim();
    this.extend(deadline, reason);
    if (!this.ctx.config.auto_resume) {
      // Read by a person (the summary, status): local time with its offset; the state's pause.until stays ISO UTC.
      this.stopRun(`paused on a usage or rate limit until ${localDateTime(this.until()!)} (auto_resume is off): ${reason}`);
      return false;
    }
    await this.waitUntilClear(signal);
    return !signal.aborted;
  }

  /** Waits while a pause lasts (no-op without one). Shows the countdown in the log once a minute. */
  async waitUntilClear(signal: AbortSignal): Promise<void> {
    let lastNotice = 0;
    for (let until = this.until(); until !== undefined && this.clock.now() < until && !signal.aborted; until = this.until()) {
      const now = this.clock.now();
      if (now - lastNotice >= 60_000) {
        lastNotice = now;
        this.ctx.logger.info(`paused: resuming in ${Math.ceil((until - now) / 1000)}s (at ${new Date(until).toISOString()})`);
      }
      await this.clock.sleep(Math.min(until - now, 1000), signal).catch(() => undefined);
    }
    if (!signal.aborted && this.ctx.state().pause) this.clear();
  }

  until(): number | undefined {
    const p = this.ctx.state().pause;
    return p ? Date.parse(p.until) : undefined;
  }

  private extend(deadline: number, reason: string): void {
    const current = this.until();
    if (current !== undefined && current >= deadline) return;
    const until = new Date(deadline).toISOString();
    this.ctx.logger.warn(`pausing the run until ${until}: ${reason}`);
    this.ctx.record({ type: 'paused', until, reason });
  }

  private clear(): void {
    this.ctx.logger.info('pause over: resuming');
    this.ctx.record({ type: 'pause-cleared' });
  }
}
