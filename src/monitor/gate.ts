import type { Config } from '../config/schema.js';
import type { ResourceSample } from './sample.js';

export type GateThresholds = Pick<
  Config['resources'],
  'enabled' | 'max_load_per_cpu' | 'min_free_memory_mb' | 'min_free_disk_mb'
>;

export interface GateContext {
  /** Our agents alive now, including those still starting. */
  runningAgents: number;
  /** Of those, the ones spawned so recently that their start-up cost is not yet in the sample (see starts.ts). */
  startingAgents?: number;
}

/** What one agent's start-up is expected to add before the sample can show it. */
export interface StartupCost {
  load: number;
  memoryMb: number;
}

/**
 * From /work/shared/reference/claude-code-headless.md §7 (Claude Code, one trivial turn, 2-core box):
 * - load: start-up burns 1.4–1.9 CPU-seconds in 1.2–1.6 s of wall time when alone, i.e. ~1.2 busy cores,
 *   rounded up to 1.25. The 1-minute load average moves only ~8% of the way per 5-second kernel tick, so it
 *   barely shows a burst that short: without this estimate every waiting task would start at once.
 * - memory: peak RSS 212–235 MB per process (~200–208 MB when several start together), rounded up to 250.
 *   Memory shows up in the sample within ~1 s, but a sample is reused for `sample_interval_ms`.
 * Free disk gets no estimate: a worktree's size depends on the repository and its setup commands.
 */
export const STARTING_AGENT_COST: StartupCost = { load: 1.25, memoryMb: 250 };

export type ResourceCheck = 'load' | 'memory' | 'disk';

export type GateVerdict =
  | { ok: true }
  | {
      ok: false;
      /** One line per failed check, e.g. "free memory 380 MB < 512 MB (resources.min_free_memory_mb)". */
      reasons: string[];
      /** The failed checks, in the order of `reasons`: stable across samples, unlike the numbers. */
      failed: ResourceCheck[];
      /**
       * None of our agents is running, so nothing we run will free anything: waiting could last forever
       * (a small machine, someone else's load). The caller should start one agent anyway, with a warning:
       * the run then degrades to one task at a time instead of hanging. See waitForResources.
       */
      wouldWaitForever: boolean;
    };

interface Failure {
  check: ResourceCheck;
  reason: string;
}

/**
 * May one more agent start now? Checks the state as it is (plus the agents still starting), not the state
 * after this start: so an idle machine always admits the first agent. A check whose figure is null
 * (unreadable) is skipped: blocking on it could wait forever, and the sampler has already warned.
 */
export function evaluateGate(
  sample: ResourceSample,
  thresholds: GateThresholds,
  context: GateContext,
  cost: StartupCost = STARTING_AGENT_COST,
): GateVerdict {
  if (!thresholds.enabled) return { ok: true };
  const running = Math.max(0, context.runningAgents);
  // Starting agents are running agents: a tracker that still counts one that already exited must not block.
  const starting = Math.min(Math.max(0, context.startingAgents ?? 0), running);
  const failures = [
    checkLoad(sample, thresholds.max_load_per_cpu, starting, cost.load),
    checkMemory(sample, thresholds.min_free_memory_mb, starting, cost.memoryMb),
    checkDisk(sample, thresholds.min_free_disk_mb),
  ].filter((f): f is Failure => f !== null);
  if (failures.length === 0) return { ok: true };
  return {
    ok: false,
    reasons: failures.map((f) => f.reason),
    failed: failures.map((f) => f.check),
    wouldWaitForever: running === 0,
  };
}

function checkLoad(sample: ResourceSample, max: number, starting: number, perAgent: number): Failure | null {
  if (sample.load1 === null) return null;
  const perCpu = (sample.load1 + starting * perAgent) / sample.cpus;
  if (perCpu <= max) return null;
  const basis =
    starting > 0
      ? `${fixed(sample.load1)} measured + ${startingAgents(starting)} × ${perAgent}, on ${cpuCount(sample.cpus)}`
      : `${fixed(sample.load1)} on ${cpuCount(sample.cpus)}`;
  return { check: 'load', reason: `load ${fixed(perCpu)} per CPU (${basis}) > ${max} (resources.max_load_per_cpu)` };
}

function checkMemory(sample: ResourceSample, min: number, starting: number, perAgentMb: number): Failure | null {
  if (sample.freeMemoryMb === null) return null;
  const free = sample.freeMemoryMb - starting * perAgentMb;
  if (free >= min) return null;
  const basis = starting > 0 ? ` (${sample.freeMemoryMb} MB available − ${startingAgents(starting)} × ${perAgentMb} MB)` : '';
  return {
    check: 'memory',
    reason: `free memory ${Math.max(0, Math.round(free))} MB${basis} < ${min} MB (resources.min_free_memory_mb)`,
  };
}

function checkDisk(sample: ResourceSample, min: number): Failure | null {
  if (sample.freeDiskMb === null || sample.freeDiskMb >= min) return null;
  return { check: 'disk', reason: `free disk ${Math.round(sample.freeDiskMb)} MB < ${min} MB (resources.min_free_disk_mb)` };
}

function fixed(n: number): string {
  return n.toFixed(2);
}

function startingAgents(n: number): string {
  return n === 1 ? '1 starting agent' : `${n} starting agents`;
}

function cpuCount(n: number): string {
  return n === 1 ? '1 CPU' : `${n} CPUs`;
}
