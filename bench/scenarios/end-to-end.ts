import os from 'node:os';
import { assertCompleted, idOfKey, makeBenchRepo, ms, readAgentLog, runCli, sleepThenWrite } from '../lib/cli-run.js';
import { generatePlan, planOf, type TaskSpec } from '../lib/plan-gen.js';
import { intBetween, normal, type Rng } from '../lib/rng.js';
import { command, table, verdict, type Scenario } from '../lib/scenario.js';
import { lowerBound, simulateScheduler, wavesMakespan } from '../lib/schedule-sim.js';
import { fmt, max, mean, min, sum } from '../lib/stats.js';

const TASKS = 40;
const PARALLEL = 8;
const CANDIDATE_SEEDS = 60;

/** Uneven: log-normal, median 250 ms, clamped to 100-800 ms, in 10 ms steps: mostly short tasks, a few 3-8x longer. */
const unevenMs = (rng: Rng): number => 10 * Math.round(Math.min(80, Math.max(10, Math.exp(Math.log(25) + 0.8 * normal(rng)))));
/** For comparison only: uniform 100-800 ms. */
const uniformMs = (rng: Rng): number => 100 + 10 * intBetween(rng, 0, 70);
const specsOf = (seed: number, duration = unevenMs): TaskSpec[] => generatePlan(seed, { tasks: TASKS, duration, toEstimate: (d) => d / 10 });

/**
 * A representative plan, not a lucky one: of the first 60 seeds, the plan whose simulated advantage over waves is
 * closest to the mean advantage of all 60.
 */
async function representativeSeed(duration = unevenMs): Promise<{ seed: number; meanSaved: number }> {
  const saved: number[] = [];
  for (let seed = 1; seed <= CANDIDATE_SEEDS; seed++) {
    const specs = specsOf(seed, duration);
    const plan = planOf(specs);
    const d = new Map(specs.map((t) => [t.id, t.duration]));
    saved.push(1 - (await simulateScheduler(plan, d, PARALLEL)) / wavesMakespan(plan, d, PARALLEL));
  }
  const meanSaved = mean(saved);
  let best = 0;
  saved.forEach((x, i) => {
    if (Math.abs(x - meanSaved) < Math.abs(saved[best]! - meanSaved)) best = i;
  });
  return { seed: best + 1, meanSaved };
}

export interface EndToEndResult {
  seed: number;
  /** Mean simulated advantage over waves of the candidate plans the seed was chosen from. */
  candidatesMeanSaved: number;
  /** The same for uniform 100-800 ms durations. */
  uniformCandidatesMeanSaved: number;
  loadAverage: number;
  tasks: number;
  parallel: number;
  stages: number;
  /** Run start (state.startedAt) to run end (state.finishedAt), ms. */
  makespanMs: number;
  cliWallMs: number;
  /** Before the first task started: lock, state, preflight is before this. */
  startupMs: number;
  /** Per stage: last task finished -> next stage's first task started (or run end): the merge. */
  settleMs: number[];
  nominal: { bound: number; waves: number; simulated: number; work: number };
  measured: { bound: number; waves: number; work: number };
  /** Task wall (runTask) minus the fake agent's own sleep, per task. */
  taskOverheadMs: number[];
  /** Fake agent process wall minus its sleep, per task. */
  agentOverheadMs: number[];
}

export const endToEnd: Scenario<EndToEndResult> = {
  name: 'e2e',
  title: 'Makespan end to end (real CLI, fake agent)',
  expectedSeconds: 25,
  async run(log) {
    const { seed, meanSaved } = await representativeSeed();
    const uniform = await representativeSeed(uniformMs);
    const specs = specsOf(seed);
    const plan = planOf(specs);
    const nominal = new Map(specs.map((t) => [t.id, t.duration]));
    const repo = makeBenchRepo(specs, sleepThenWrite(specs), { max_parallel_tasks: PARALLEL });
    try {
      log(`  ${TASKS} tasks in ${plan.stages.length} stages (seed ${seed}), ${PARALLEL} parallel, agents sleep 100-800 ms`);
      const loadBefore = os.loadavg()[0] ?? 0;
      const run = await runCli([], { cwd: repo.root, env: repo.env });
      const state = assertCompleted(run, repo.root, TASKS);
      const measured = new Map(Object.entries(state.tasks).map(([id, t]) => [id, ms(t.finishedAt) - ms(t.startedAt)]));
      const runStart = ms(state.startedAt);
      const runEnd = ms(state.finishedAt);
      const starts = (stage: number) => Object.values(state.tasks).filter((t) => t.stage === stage).map((t) => ms(t.startedAt));
      const ends = (stage: number) => Object.values(state.tasks).filter((t) => t.stage === stage).map((t) => ms(t.finishedAt));
      const stageNumbers = plan.stages.map((s) => s.stage);
      const settleMs = stageNumbers.map((s, i) => {
        const next = stageNumbers[i + 1];
        return (next === undefined ? runEnd : min(starts(next))) - max(ends(s));
      });
      const agent = new Map<string, { start?: number; end?: number }>();
      for (const r of readAgentLog(repo.log)) {
        const id = idOfKey(r.key);
        if (!id) continue;
        const entry = agent.get(id) ?? {};
        if (r.event === 'start') entry.start = r.time;
        if (r.event === 'end') entry.end = r.time;
        agent.set(id, entry);
      }
      const result: EndToEndResult = {
        seed,
        candidatesMeanSaved: meanSaved,
        uniformCandidatesMeanSaved: uniform.meanSaved,
        loadAverage: loadBefore,
        tasks: TASKS,
        parallel: PARALLEL,
        stages: plan.stages.length,
        makespanMs: runEnd - runStart,
        cliWallMs: run.wallMs,
        startupMs: min(starts(stageNumbers[0]!)) - runStart,
        settleMs,
        nominal: {
          bound: lowerBound(plan, nominal, PARALLEL),
          waves: wavesMakespan(plan, nominal, PARALLEL),
          simulated: await simulateScheduler(plan, nominal, PARALLEL),
          work: sum([...nominal.values()]),
        },
        measured: { bound: lowerBound(plan, measured, PARALLEL), waves: wavesMakespan(plan, measured, PARALLEL), work: sum([...measured.values()]) },
        taskOverheadMs: specs.map((t) => measured.get(t.id)! - t.duration),
        agentOverheadMs: specs.map((t) => {
          const a = agent.get(t.id);
          return a?.start !== undefined && a.end !== undefined ? a.end - a.start - t.duration : Number.NaN;
        }),
      };
      log(`  makespan ${fmt.ms(result.makespanMs)}, nominal bound ${fmt.ms(result.nominal.bound)}, measured-duration bound ${fmt.ms(result.measured.bound)}`);
      return result;
    } finally {
      repo.cleanup();
    }
  },
  render(r) {
    const fixed = r.startupMs + sum(r.settleMs);
    const scheduling = r.makespanMs - fixed;
    const wavesSame = r.measured.waves + fixed;
    const vsBoundMeasured = scheduling / r.measured.bound;
    const saved = 1 - r.makespanMs / wavesSame;
    return [
      `Reproduce: \`${command('e2e')}\``,
      '',
      `A generated ${r.tasks}-task plan (${r.stages} stages, seed ${r.seed}, the same generator as above), \`max_parallel_tasks: ${r.parallel}\`,`,
      'review and the resource gate off, run by the built CLI (`node dist/cli/bin.js`) in a fresh repository. Each fake',
      "agent sleeps its task's fixed duration, writes one file and exits; the",
      'orchestrator creates the worktree, commits, and merges each stage. Times come from `run-state.json` (run and',
      "task start/end) and the fake agent's log (agent process start/end).",
      'Durations are uneven, as in the simulation: log-normal with a median of 250 ms, clamped to 100-800 ms (estimates',
      'proportional). The plan is chosen to be representative: of the first',
      `${CANDIDATE_SEEDS} seeds, the one whose simulated advantage over waves is closest to their mean (${fmt.pct(r.candidatesMeanSaved)}). With uniform`,
      `100-800 ms durations the same plans average ${fmt.pct(r.uniformCandidatesMeanSaved)}: the advantage over waves depends on how uneven the tasks`,
      `are. 1-minute load average when the run started: ${r.loadAverage.toFixed(2)} on ${os.availableParallelism()} CPUs.`,
      '',
      table(
        ['', 'ms', 'ratio'],
        [
          ['real makespan (run start to run end)', fmt.ms(r.makespanMs), ''],
          ['lower bound, nominal durations (agent sleeps only)', fmt.ms(r.nominal.bound), `makespan / bound = ${fmt.ratio(r.makespanMs / r.nominal.bound)}`],
          ['scheduler on a virtual clock, nominal durations', fmt.ms(r.nominal.simulated), `${fmt.ratio(r.nominal.simulated / r.nominal.bound)} of the bound`],
          ['waves on a virtual clock, nominal durations', fmt.ms(r.nominal.waves), `scheduler ${fmt.pct(1 - r.nominal.simulated / r.nominal.waves)} shorter`],
          ['start-up before the first task (lock, state, first worktree)', fmt.ms(r.startupMs), ''],
          [`stage settles (merge; ${r.settleMs.length} stages)`, fmt.ms(sum(r.settleMs)), `each: ${r.settleMs.map((x) => x.toFixed(0)).join(', ')}`],
          ['makespan without start-up and settles', fmt.ms(scheduling), ''],
          ['lower bound, measured task durations', fmt.ms(r.measured.bound), `scheduling / bound = ${fmt.ratio(vsBoundMeasured)}`],
          ['waves with the measured durations, same start-up and settles', fmt.ms(wavesSame), `real makespan ${fmt.pct(saved)} shorter (${fmt.ratio(r.makespanMs / wavesSame)})`],
          ['per-task overhead: task wall - agent sleep (mean / max)', `${fmt.ms(mean(r.taskOverheadMs))} / ${fmt.ms(max(r.taskOverheadMs))}`, ''],
          ['  of which the fake agent process itself (start-up, JSON, write)', fmt.ms(mean(r.agentOverheadMs)), ''],
          ['CLI process wall (includes validation, preflight, exit)', fmt.ms(r.cliWallMs), ''],
        ],
      ),
      '',
      `- Scheduling vs the bound of the same (measured) task durations: ${fmt.ratio(vsBoundMeasured)}: target <= 1.03x ${verdict(vsBoundMeasured <= 1.03)}.`,
      `- Against waves with the same durations and merges: ${fmt.pct(saved)} shorter: target >= 20 % ${verdict(saved >= 0.2)}. With the agents' own`,
      `  (nominal) durations the same plan is ${fmt.pct(1 - r.nominal.simulated / r.nominal.waves)} shorter than waves. The difference is the per-task overhead: about`,
      `  ${fmt.ms(mean(r.taskOverheadMs))} added to every task (as long as the tasks themselves) makes durations more even, and an even plan`,
      '  loses less at wave barriers. With real agents, whose tasks dwarf that overhead, the gain approaches the nominal',
      '  figure; cutting the overhead (next sections) also recovers it here.',
      `- Against the bound of the agents' sleeps alone: ${fmt.ratio(r.makespanMs / r.nominal.bound)}. This includes every real cost the bound leaves out:`,
      `  ${fmt.ms(mean(r.taskOverheadMs))} per task (worktree, agent process start on a 2-core box running up to ${r.parallel} of them, commit),`,
      `  ${fmt.ms(sum(r.settleMs))} of merges and ${fmt.ms(r.startupMs)} of start-up, against tasks of 100-800 ms. With real agents (minutes`,
      '  per task) the same fixed costs are well under 1 %; the scheduling ratio above is the one that carries over.',
      '  Per-task overhead and merges are analysed in the next two sections.',
      '- The comparison with waves uses the durations measured in this run; a wave-barrier run would see somewhat',
      '  different durations (fewer agents overlap at times), so that figure is an estimate, not a second run.',
    ].join('\n');
  },
  summary(r) {
    const fixed = r.startupMs + sum(r.settleMs);
    const vs = (r.makespanMs - fixed) / r.measured.bound;
    const saved = 1 - r.makespanMs / (r.measured.waves + fixed);
    return [
      { what: `end to end, ${r.tasks} tasks, ${r.parallel} parallel: scheduling / bound of the measured task durations`, measured: fmt.ratio(vs), target: '<= 1.03x', met: vs <= 1.03 },
      { what: 'end to end: makespan shorter than waves with the same durations and merges', measured: fmt.pct(saved), target: '>= 20 %', met: saved >= 0.2 },
      { what: "end to end: makespan / bound of the agents' sleeps alone (all overheads included)", measured: fmt.ratio(r.makespanMs / r.nominal.bound, 2), target: '(1.03x)', met: r.makespanMs / r.nominal.bound <= 1.03 },
    ];
  },
};
