import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createSampler, systemReader } from '../../src/monitor/index.js';
import { command, table, type Scenario } from '../lib/scenario.js';
import { fmt, median } from '../lib/stats.js';

const UNCACHED = 300;
const CACHED = 200_000;
const DEFAULT_INTERVAL_MS = 2000;

export interface SamplerResult {
  /** µs per call. */
  uncachedUs: number;
  cachedUs: number;
  firstUs: number;
  /** µs per call of each reading, median of 100. */
  figures: Record<string, number>;
}

async function perCall(n: number, fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1000) / n;
}

export const sampler: Scenario<SamplerResult> = {
  name: 'sampler',
  title: 'Resource monitor sampling cost',
  expectedSeconds: 3,
  async run(log) {
    const path = tmpdir();
    const fresh = createSampler({ path, intervalMs: 0 });
    const t0 = performance.now();
    await fresh.sample();
    const firstUs = (performance.now() - t0) * 1000;
    await perCall(20, () => fresh.sample());
    const uncachedUs = await perCall(UNCACHED, () => fresh.sample());
    const cached = createSampler({ path, intervalMs: 3_600_000 });
    await cached.sample();
    const cachedUs = await perCall(CACHED, () => cached.sample());
    const figures: Record<string, number> = {};
    const each = { cpus: () => systemReader.cpus(), load1: () => systemReader.load1(), availableMemoryMb: () => systemReader.availableMemoryMb(), freeDiskMb: () => systemReader.freeDiskMb(path) };
    for (const [name, fn] of Object.entries(each)) {
      const times: number[] = [];
      for (let i = 0; i < 100; i++) times.push(await perCall(1, fn));
      figures[name] = median(times);
    }
    log(`  uncached ${uncachedUs.toFixed(0)} µs, cached ${cachedUs.toFixed(2)} µs per sample()`);
    return { uncachedUs, cachedUs, firstUs, figures };
  },
  render(r) {
    const share = r.uncachedUs / 1000 / DEFAULT_INTERVAL_MS;
    return [
      `Reproduce: \`${command('sampler')}\``,
      '',
      '`createSampler` with the real system reader, in process: uncached (`intervalMs: 0`, every call reads the system)',
      `${UNCACHED} calls after a warm-up, cached (one reading reused) ${CACHED.toLocaleString('en')} calls; then each reading alone (median of 100).`,
      '',
      table(
        ['', 'per call'],
        [
          ['first sample of the process', `${(r.firstUs / 1000).toFixed(2)} ms`],
          ['sample(), uncached', `${r.uncachedUs.toFixed(0)} µs`],
          ['sample(), cached', `${r.cachedUs.toFixed(2)} µs`],
          ...Object.entries(r.figures).map(([name, us]) => [`  reader.${name}()`, `${us.toFixed(1)} µs`]),
        ],
      ),
      '',
      `- Uncached / cached: ${fmt.ratio(r.uncachedUs / r.cachedUs, 0)}. At the default \`resources.sample_interval_ms\` (${DEFAULT_INTERVAL_MS} ms) a fresh sample at`,
      `  every interval costs ${fmt.pct(share, 3)} of one core; the gate samples at most once per task start anyway. No target was set;`,
      `  the largest part is \`reader.${largest(r)}()\`.`,
    ].join('\n');
  },
  summary(r) {
    return [{ what: 'resource sample, uncached / cached (cost per call)', measured: `${r.uncachedUs.toFixed(0)} µs / ${r.cachedUs.toFixed(2)} µs`, target: '(none)', met: undefined }];
  },
};

function largest(r: SamplerResult): string {
  return Object.entries(r.figures).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'n/a';
}
