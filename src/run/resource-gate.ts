import { createSampler, createStartTracker, waitForResources, type MetricsRecorder } from '../monitor/index.js';
import type { MilestoneId } from '../milestones/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../report/logger.js';
import type { RunPaths } from './context.js';
import type { RunRecorder } from './recorder.js';
import { isoNow, type Clock } from './clock.js';

/** What the gate touches: the resource thresholds, the disk it watches, the log, and the run state (who runs, who waits). */
export interface ResourceGateDeps {
  config: Pick<Config, 'resources'>;
  paths: Pick<RunPaths, 'worktreeDir'>;
  logger: Logger;
  recorder: Pick<RunRecorder, 'state' | 'record'>;
  clock: Pick<Clock, 'now'>;
}

/**
 * The scheduler's `beforeStart`: holds a task until the machine has room for one more agent, with the reason in
 * the state (TASKS.md, status) and the log. When nothing of ours is running, it never waits forever.
 */
export function createResourceGate(ctx: ResourceGateDeps, metrics: MetricsRecorder): (id: MilestoneId, signal: AbortSignal) => Promise<void> {
  const resources = ctx.config.resources;
  const sampler = createSampler({
    path: ctx.paths.worktreeDir,
    intervalMs: resources.sample_interval_ms,
    metrics,
    onWarning: (message) => ctx.logger.warn(`resource monitor: ${message}`),
  });
  const starts = createStartTracker();
  const runningAgents = () => Object.values(ctx.recorder.state.tasks).filter((t) => t.status === 'running').length;
  return async (id, signal) => {
    const result = await waitForResources({
      sampler,
      thresholds: resources,
      runningAgents,
      startingAgents: () => starts.count(),
      signal,
      metrics,
      onWait: (reasons) => {
        ctx.logger.info(`holding ${id}: ${reasons.join('; ')}`);
        ctx.recorder.record({ type: 'resource-wait', task: id, reasons, at: isoNow(ctx.clock) });
      },
    });
    ctx.recorder.record({ type: 'resource-wait-cleared' });
    if (result.forced) ctx.logger.warn(`starting ${id} although ${result.reasons.join('; ')} (no other task is running)`);
    starts.record();
  };
}
