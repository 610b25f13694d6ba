import { abortableSleep } from '../util/sleep.js';
import { evaluateGate, type GateThresholds, type StartupCost } from './gate.js';
import type { MetricsRecorder } from './metrics.js';
import type { Sampler } from './sample.js';

export interface WaitOptions {
  sampler: Pick<Sampler, 'sample'>;
  thresholds: GateThresholds & { sample_interval_ms?: number };
  /** Our agents alive now, asked on every poll. */
  runningAgents: () => number;
  /** Of those, the ones still starting: `StartTracker.count`. */
  startingAgents?: () => number;
  signal: AbortSignal;
  /** The gate is closed: when the wait begins, when the set of failed checks changes, and every `remindMs`. */
  onWait: (reasons: string[]) => void;
  /** Between polls; default `thresholds.sample_interval_ms` (polling faster only re-reads the cached sample). */
  pollMs?: number;
  /** A long wait is re-announced, with fresh numbers, this often. Default 60 s. */
  remindMs?: number;
  now?: () => number;
  /** Must settle (either way) when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  metrics?: Pick<MetricsRecorder, 'recordWait'>;
  startupCost?: StartupCost;
}

export type WaitResult =
  | { waitedMs: number; forced: false }
  /** The gate was closed with none of our agents running: the agent may start anyway; warn with `reasons`. */
  | { waitedMs: number; forced: true; reasons: string[] };

const DEFAULT_POLL_MS = 2000;
const DEFAULT_REMIND_MS = 60_000;

/**
 * Resolves when one more agent may start. Decision for the "would wait forever" case: with none of our agents
 * running nothing we do can open the gate, so it resolves at once with `forced: true` rather than hanging or
 * failing - the run goes on one task at a time, and the caller logs the reasons as a warning. Rejects with
 * the signal's reason as soon as the signal aborts (also mid-sample or mid-sleep).
 */
export async function waitForResources(opts: WaitOptions): Promise<WaitResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const pollMs = opts.pollMs ?? opts.thresholds.sample_interval_ms ?? DEFAULT_POLL_MS;
  const remindMs = opts.remindMs ?? DEFAULT_REMIND_MS;
  const started = now();
  let announced: { key: string; at: number } | undefined;

  const finish = (result: WaitResult): WaitResult => {
    if (announced || result.forced) opts.metrics?.recordWait(result.waitedMs, result.forced);
    return result;
  };

  for (;;) {
    opts.signal.throwIfAborted();
    if (!opts.thresholds.enabled) return finish({ waitedMs: now() - started, forced: false });
    const sample = await untilAborted(opts.sampler.sample(), opts.signal);
    const context = { runningAgents: opts.runningAgents(), startingAgents: opts.startingAgents?.() ?? 0 };
    const verdict = evaluateGate(sample, opts.thresholds, context, opts.startupCost);
    const waitedMs = now() - started;
    if (verdict.ok) return finish({ waitedMs, forced: false });
    if (verdict.wouldWaitForever) return finish({ waitedMs, forced: true, reasons: verdict.reasons });
    const key = verdict.failed.join(',');
    const t = now();
    if (!announced || announced.key !== key || t - announced.at >= remindMs) {
      announced = { key, at: t };
      opts.onWait(verdict.reasons);
    }
    await sleep(pollMs, opts.signal);
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
