import { performance } from 'node:perf_hooks';
import type { MetricsRecorder } from './metrics.js';
import { systemReader, type ResourceReader } from './reader.js';

/** Null means the figure could not be read; the sampler has warned once, and the gate skips that check. */
export interface ResourceSample {
  /** When the reading started, epoch ms. */
  at: number;
  /** CPUs this process may use; 1 when unreadable. */
  cpus: number;
  /** 1-minute load average. Always 0 on Windows, which has none: the load check is then a no-op. */
  load1: number | null;
  /** `load1 / cpus`. */
  loadPerCpu: number | null;
  /** Available (not "free") memory, MB: reclaimable page cache counts as available. */
  freeMemoryMb: number | null;
  /** Free space on the filesystem that holds the sampler's path, MB. */
  freeDiskMb: number | null;
}

export interface Sampler {
  /** The last sample while it is younger than the interval, else a fresh one. Never rejects. */
  sample(): Promise<ResourceSample>;
}

export interface SamplerOptions {
  /** Where the worktrees live (need not exist yet): the disk figure is for its filesystem. */
  path: string;
  /** How long a sample is reused: `resources.sample_interval_ms`. */
  intervalMs: number;
  reader?: ResourceReader;
  /** Epoch ms, for `at` and the cache. */
  now?: () => number;
  /** Monotonic ms, for the sampling cost. */
  timer?: () => number;
  /** A reading that has not answered by then counts as failed (a hung df or NFS mount must not hang a run). */
  readTimeoutMs?: number;
  onWarning?: (message: string) => void;
  metrics?: Pick<MetricsRecorder, 'recordSample'>;
}

type Figure = 'cpus' | 'load' | 'memory' | 'disk';
const DEFAULT_READ_TIMEOUT_MS = 5000;

export function createSampler(opts: SamplerOptions): Sampler {
  const reader = opts.reader ?? systemReader;
  const now = opts.now ?? Date.now;
  const timer = opts.timer ?? (() => performance.now());
  const timeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const warned = new Set<Figure>();
  let last: ResourceSample | undefined;
  // Callers that ask while a reading is under way share it instead of starting another.
  let inFlight: Promise<ResourceSample> | undefined;

  const read = async (figure: Figure, fn: () => number | Promise<number>): Promise<number | null> => {
    try {
      const value = await withTimeout(Promise.resolve().then(fn), timeoutMs);
      if (Number.isFinite(value) && value >= 0) return value;
      throw new Error(`implausible value ${value}`);
    } catch (err) {
      if (!warned.has(figure)) {
        warned.add(figure);
        opts.onWarning?.(`resource monitor: cannot read ${describe(figure, opts.path)} (${messageOf(err)}); that check is skipped while it stays unreadable`);
      }
      return null;
    }
  };

  const fresh = async (): Promise<ResourceSample> => {
    const at = now();
    const started = timer();
    const [cpus, load1, memory, disk] = await Promise.all([
      read('cpus', () => reader.cpus()),
      read('load', () => reader.load1()),
      read('memory', () => reader.availableMemoryMb()),
      read('disk', () => reader.freeDiskMb(opts.path)),
    ]);
    const sample: ResourceSample = {
      at,
      cpus: cpus !== null && cpus >= 1 ? cpus : 1,
      load1,
      loadPerCpu: load1 !== null && cpus !== null && cpus >= 1 ? load1 / cpus : null,
      freeMemoryMb: roundMb(memory),
      freeDiskMb: roundMb(disk),
    };
    opts.metrics?.recordSample(sample, timer() - started);
    return sample;
  };

  return {
    sample() {
      const age = last ? now() - last.at : Number.NaN;
      // A clock that went backwards (negative age) makes the cached sample suspect: read again.
      if (last && age >= 0 && age < opts.intervalMs) return Promise.resolve(last);
      inFlight ??= fresh().then((s) => (last = s)).finally(() => (inFlight = undefined));
      return inFlight;
    },
  };
}

function describe(figure: Figure, target: string): string {
  switch (figure) {
    case 'cpus':
      return 'the CPU count';
    case 'load':
      return 'the load average';
    case 'memory':
      return 'available memory';
    case 'disk':
      return `free disk space for ${target}`;
  }
}

function roundMb(mb: number | null): number | null {
  return mb === null ? null : Math.round(mb);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let handle: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    handle = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    handle.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(handle));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
