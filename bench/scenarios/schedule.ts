import { generatePlan, planOf, unevenMinutes } from '../lib/plan-gen.js';
import { command, table, verdict, type Scenario } from '../lib/scenario.js';
import { lowerBound, simulateScheduler, tightLowerBound, wavesMakespan } from '../lib/schedule-sim.js';
import { fmt, max, mean, min } from '../lib/stats.js';

const SIZES = [10, 20, 40, 70, 100];
const PARALLEL = [2, 4, 8];
const SEEDS = 20;
const NOISE = 0.5;

interface Cell {
  tasks: number;
  parallel: number;
  /** makespan / lower bound, one per seed. */
  vsBound: number[];
  /** makespan / the tighter bound (see tightLowerBound), one per seed. */
  vsTight: number[];
  /** 1 - makespan / waves, one per seed. */
  savedVsWaves: number[];
  /** The same with estimates off by e^(0.5 N(0,1)). */
  noisyVsBound: number[];
  noisySavedVsWaves: number[];
}

export interface ScheduleResult {
  seeds: number;
  cells: Cell[];
}

async function measure(tasks: number, parallel: number, seed: number, noise: number): Promise<{ vsBound: number; vsTight: number; saved: number }> {
  const specs = generatePlan(seed * 1000 + tasks, { tasks, duration: unevenMinutes, ...(noise ? { estimateNoise: noise } : {}) });
  const plan = planOf(specs);
  const durations = new Map(specs.map((t) => [t.id, t.duration]));
  const makespan = await simulateScheduler(plan, durations, parallel);
  const bound = lowerBound(plan, durations, parallel);
  const waves = wavesMakespan(plan, durations, parallel);
  return { vsBound: makespan / bound, vsTight: makespan / tightLowerBound(plan, durations, parallel), saved: 1 - makespan / waves };
}

export const schedule: Scenario<ScheduleResult> = {
  name: 'schedule',
  title: 'Scheduling quality (simulated clock)',
  expectedSeconds: 5,
  async run(log) {
    const cells: Cell[] = [];
    for (const tasks of SIZES) {
      for (const parallel of PARALLEL) {
        const cell: Cell = { tasks, parallel, vsBound: [], vsTight: [], savedVsWaves: [], noisyVsBound: [], noisySavedVsWaves: [] };
        for (let seed = 1; seed <= SEEDS; seed++) {
          const exact = await measure(tasks, parallel, seed, 0);
          const noisy = await measure(tasks, parallel, seed, NOISE);
          cell.vsBound.push(exact.vsBound);
          cell.vsTight.push(exact.vsTight);
          cell.savedVsWaves.push(exact.saved);
          cell.noisyVsBound.push(noisy.vsBound);
          cell.noisySavedVsWaves.push(noisy.saved);
        }
        cells.push(cell);
        log(`  ${tasks} tasks, ${parallel} parallel: ${fmt.ratio(mean(cell.vsBound))} of the bound, ${fmt.pct(mean(cell.savedVsWaves))} shorter than waves`);
      }
    }
    return { seeds: SEEDS, cells };
  },
  render(r) {
    const t = totals(r);
    const rows = r.cells.map((c) => [
      String(c.tasks),
      String(c.parallel),
      fmt.ratio(mean(c.vsBound)),
      fmt.ratio(max(c.vsBound)),
      fmt.ratio(max(c.vsTight)),
      fmt.pct(mean(c.savedVsWaves)),
      fmt.pct(min(c.savedVsWaves)),
      fmt.ratio(mean(c.noisyVsBound)),
      fmt.pct(mean(c.noisySavedVsWaves)),
    ]);
    const atLeast4 = r.cells.filter((c) => c.parallel >= 4).flatMap((c) => c.savedVsWaves);
    const atTwo = r.cells.filter((c) => c.parallel === 2).flatMap((c) => c.savedVsWaves);
    return [
      `Reproduce: \`${command('schedule')}\``,
      '',
      `${r.seeds} seeded plans per row (${r.cells.length * r.seeds} in all): 10 to 100 tasks over 1 to 6 stages, 60 % of the`,
      'tasks depending on one or two earlier tasks of their stage (chains and fans), a fifth also on an earlier stage;',
      "durations log-normal around 45 min (5 min to 8 h, so a stage mixes 10-minute and 4-hour tasks). The product's",
      "own `runSchedule` (pure core and driver, unchanged) runs each plan with a `runTask` that resolves after the task's",
      'duration on a virtual clock (time advances only once every promise has settled), so makespans are exact and do',
      'not depend on the machine. Stage settles (merges) take no time here; the end-to-end benchmark measures them.',
      '',
      '**Bound and baseline are per stage.** Stages are barriers by design: stage n+1 starts from the merged result of',
      'stage n, so none of its tasks can start before every task of stage n has finished and been merged. The lower',
      'bound is therefore `sum over stages of max(stage critical path, stage work / max_parallel)` (a whole-plan',
      '`max(critical path, work / parallelism)` would be lower than anything a staged run can reach), and the wave',
      "baseline is per stage too: the planner's parallel groups (levels of the same-stage dependency graph) run one",
      'after another, each level a barrier, at most `max_parallel` at once, highest critical path first. The scheduler',
      'differs only in starting a task as soon as its own dependencies are done.',
      '',
      table(
        ['tasks', 'parallel', 'makespan / bound, mean', 'worst', 'worst vs tighter bound', 'shorter than waves, mean', 'least', 'vs bound, noisy estimates', 'vs waves, noisy estimates'],
        rows,
      ),
      '',
      `Over all ${t.all.length} plans: makespan / bound mean ${fmt.ratio(mean(t.all))}, worst ${fmt.ratio(max(t.all))}; ${fmt.pct(t.within, 0)} of the plans are within 1.03x.`,
      `Shorter than waves: mean ${fmt.pct(mean(t.saved))} (${fmt.pct(mean(atLeast4))} at 4 and 8 parallel, ${fmt.pct(mean(atTwo))} at 2).`,
      '',
      `- Target makespan <= 1.03x the bound: ${verdict(mean(t.all) <= 1.03)} on average (${fmt.ratio(mean(t.all))}), and for ${fmt.pct(t.within, 0)} of the plans.`,
      '  The plans above it have small stages, where the bound is far from reachable: 3 equal tasks on 2 slots take',
      '  2 durations, the bound says 1.5. Against a tighter bound that also counts the P-th plus (P+1)-th longest',
      `  task of a stage (two of the P+1 longest must share a slot), the worst plan is at ${fmt.ratio(max(t.allTight))}; the optimum lies`,
      '  somewhere between the bound and the schedule, and computing it is NP-hard.',
      '  Critical-path-first list scheduling is not optimal in general, but with exact',
      `  estimates it is within 3 % on ${fmt.pct(t.within, 0)} of these plans; with noisy estimates (estimate = duration x e^(0.5 N(0,1)):`,
      `  a third of them off by more than 1.65x either way) it stays at ${fmt.ratio(mean(r.cells.flatMap((c) => c.noisyVsBound)))} on average.`,
      `- Target >= 20 % shorter than waves on uneven plans: ${verdict(mean(t.saved) >= 0.2)} on average (${fmt.pct(mean(t.saved))}). The gain comes from`,
      '  same-stage dependencies: a stage without them is a single wave, and both schedules are then identical (the 0 %',
      '  rows). It is smallest at 2 parallel, where the work / parallelism term dominates both schedules: slots are',
      '  rarely idle at a wave barrier when there is always more work than slots.',
    ].join('\n');
  },
  summary(r) {
    const t = totals(r);
    return [
      { what: 'makespan / per-stage lower bound, 300 simulated plans (mean; share within 1.03x)', measured: `${fmt.ratio(mean(t.all))}; ${fmt.pct(t.within, 0)}`, target: '<= 1.03x', met: mean(t.all) <= 1.03 },
      { what: 'makespan shorter than per-stage waves, same plans (mean)', measured: fmt.pct(mean(t.saved)), target: '>= 20 %', met: mean(t.saved) >= 0.2 },
    ];
  },
};

function totals(r: ScheduleResult) {
  const all = r.cells.flatMap((c) => c.vsBound);
  return {
    all,
    allTight: r.cells.flatMap((c) => c.vsTight),
    saved: r.cells.flatMap((c) => c.savedVsWaves),
    within: all.filter((x) => x <= 1.03).length / all.length,
  };
}
