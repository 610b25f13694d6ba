import type { Milestone } from '../../src/milestones/types.js';
import { buildPlan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/types.js';
import { createRng, intBetween, normal, type Rng } from './rng.js';

/** One generated milestone: `duration` is what it really takes, `estimate` what its file says (minutes). */
export interface TaskSpec {
  id: string;
  stage: number;
  deps: string[];
  duration: number;
  estimate: number;
}

export interface GenOptions {
  tasks: number;
  /** A task's real duration (minutes in simulations, ms end to end). */
  duration: (rng: Rng) => number;
  /** Estimate = duration (default), or duration x e^(noise x N(0,1)): estimates that are off. */
  estimateNoise?: number;
  /** Estimate from the duration, when not the duration itself (end to end: ms -> minutes). */
  toEstimate?: (duration: number) => number;
  /** Share of tasks (after a stage's first) that depend on one or two earlier tasks of their stage. Default 0.6. */
  sameStageDepRate?: number;
  /** Number of stages; default: the fewest that fit (26 tasks a stage) plus 0-2 more. */
  stages?: number;
}

/** Uneven durations: log-normal around 45 minutes (from 5 min to 8 h), as real milestone estimates spread. */
export const unevenMinutes = (rng: Rng): number => Math.round(Math.min(480, Math.max(5, Math.exp(Math.log(45) + 0.9 * normal(rng)))));

/** A random, valid plan: letters A.. per stage, same-stage chains and fans, some dependencies on earlier stages. */
export function generatePlan(seed: number, opts: GenOptions): TaskSpec[] {
  const rng = createRng(seed);
  const minStages = Math.ceil(opts.tasks / 26);
  const stageCount = opts.stages ?? Math.min(9, minStages + intBetween(rng, 0, 2));
  if (stageCount * 26 < opts.tasks || stageCount > 9) throw new Error(`cannot fit ${opts.tasks} tasks in ${stageCount} stages`);
  const depRate = opts.sameStageDepRate ?? 0.6;
  const specs: TaskSpec[] = [];
  const byStage: TaskSpec[][] = [];
  for (let s = 0; s < stageCount; s++) {
    const size = Math.floor(opts.tasks / stageCount) + (s < opts.tasks % stageCount ? 1 : 0);
    const stage = s + 1;
    const members: TaskSpec[] = [];
    for (let i = 0; i < size; i++) {
      const id = `${stage}${String.fromCharCode(65 + i)}`;
      const deps = new Set<string>();
      if (i > 0 && rng() < depRate) {
        const count = rng() < 0.7 ? 1 : 2;
        for (let k = 0; k < count; k++) deps.add(members[intBetween(rng, 0, i - 1)]!.id);
      }
      if (s > 0 && rng() < 0.2) {
        const earlier = byStage[intBetween(rng, 0, s - 1)]!;
        deps.add(earlier[intBetween(rng, 0, earlier.length - 1)]!.id);
      }
      const duration = opts.duration(rng);
      const exact = opts.toEstimate ? opts.toEstimate(duration) : duration;
      const estimate = opts.estimateNoise ? Math.max(1, Math.round(exact * Math.exp(opts.estimateNoise * normal(rng)))) : exact;
      const spec: TaskSpec = { id, stage, deps: [...deps].sort(), duration, estimate };
      members.push(spec);
      specs.push(spec);
    }
    byStage.push(members);
  }
  return specs;
}

/** The planner's view of the specs, through the real `buildPlan` (priorities come from the estimates). */
export function planOf(specs: readonly TaskSpec[]): Plan {
  return buildPlan(specs.map(toMilestone));
}

function toMilestone(t: TaskSpec): Milestone {
  return {
    id: t.id,
    stage: t.stage,
    letter: t.id.slice(1),
    file: `milestones/${t.id}.md`,
    absPath: `/virtual/milestones/${t.id}.md`,
    title: `Task ${t.id}`,
    titleLine: 1,
    sections: {},
    dependencies: t.deps.map((id) => ({ id, source: 'section' as const, line: 1, col: 1 })),
    estimateMinutes: t.estimate,
    settings: {},
    body: '',
  };
}

/** The milestone file a user would write for the spec. */
export function milestoneMarkdown(t: TaskSpec): string {
  return [
    `# Milestone ${t.id} - Task ${t.id}`,
    '',
    '## Description',
    `Generated benchmark task ${t.id}.`,
    '',
    '## Tasks',
    `1. Create ${t.id}.txt`,
    '',
    '## Exit Criteria',
    `- ${t.id}.txt exists`,
    '',
    '## Dependencies',
    t.deps.length ? t.deps.map((d) => `- ${d}`).join('\n') : '- None',
    '',
    '## Estimated Time',
    `${t.estimate} min`,
    '',
  ].join('\n');
}
