import type { Milestone, MilestoneId } from '../../src/milestones/types.js';
import { buildPlan } from '../../src/plan/build.js';
import type { Plan } from '../../src/plan/types.js';

/** `{ id, est?, deps? }`: est `null` means the file had no readable estimate. */
export interface Spec {
  id: MilestoneId;
  est?: number | null;
  deps?: MilestoneId[];
  title?: string;
}

export function milestone({ id, est = 10, deps = [], title }: Spec): Milestone {
  const stage = Number(id[0]);
  const letter = id.slice(1);
  return {
    id,
    stage,
    letter,
    file: `milestones/${id}.md`,
    absPath: `/repo/milestones/${id}.md`,
    title: title ?? `Task ${id}`,
    titleLine: 1,
    sections: {},
    dependencies: deps.map((d, i) => ({ id: d, source: 'section', line: 10 + i, col: 3 })),
    estimateMinutes: est,
    settings: {},
    body: `# ${title ?? id}\n`,
  };
}

export function planOf(specs: Spec[]): Plan {
  return buildPlan(specs.map(milestone));
}
