import type { MilestoneId } from '../milestones/types.js';
import type { PlanStage, PlanTask } from './types.js';

/** A task before its stage-relative numbers are known. */
export type TaskInput = Omit<PlanTask, 'criticalPathMinutes'>;

/**
 * Computes one stage's critical paths and parallel groups from its tasks (in letter order).
 *
 * Only dependencies on tasks of `tasks` count as edges: earlier-stage dependencies are satisfied before the
 * stage starts, and when formatting a selection, dependencies outside it are already done. That is why
 * `formatPlan` can call this again on a subset.
 */
export function buildStage(stage: number, tasks: readonly TaskInput[]): PlanStage {
  const graph = localGraph(tasks);
  const levels = new Map<MilestoneId, number>();
  const paths = new Map<MilestoneId, number>();
  for (const task of tasks) {
    levelOf(task.id, graph, levels, new Set());
    pathOf(task.id, graph, paths, new Set());
  }

  const planned: PlanTask[] = tasks.map((t) => ({ ...t, criticalPathMinutes: paths.get(t.id) ?? 0 }));
  return {
    stage,
    tasks: planned,
    parallelGroups: groupByLevel(tasks, levels),
    criticalPath: heaviestChain(tasks, graph, levels, paths),
  };
}

interface LocalGraph {
  byId: Map<MilestoneId, TaskInput>;
  /** Same-stage dependencies inside the set. */
  deps: Map<MilestoneId, MilestoneId[]>;
  /** Inverse of `deps`, in letter order. */
  dependents: Map<MilestoneId, MilestoneId[]>;
}

function localGraph(tasks: readonly TaskInput[]): LocalGraph {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const deps = new Map<MilestoneId, MilestoneId[]>();
  const dependents = new Map<MilestoneId, MilestoneId[]>(tasks.map((t) => [t.id, []]));
  for (const task of tasks) {
    const local = task.deps.filter((d) => byId.has(d));
    deps.set(task.id, local);
    for (const d of local) dependents.get(d)?.push(task.id);
  }
  return { byId, deps, dependents };
}

/** Longest chain of same-stage dependencies below `id`: 0 when it can start as soon as the stage does. */
function levelOf(id: MilestoneId, g: LocalGraph, memo: Map<MilestoneId, number>, visiting: Set<MilestoneId>): number {
  const known = memo.get(id);
  if (known !== undefined) return known;
  enter(id, visiting);
  let level = 0;
  for (const d of g.deps.get(id) ?? []) level = Math.max(level, levelOf(d, g, memo, visiting) + 1);
  visiting.delete(id);
  memo.set(id, level);
  return level;
}

/** Own estimate plus the heaviest chain of same-stage dependents. */
function pathOf(id: MilestoneId, g: LocalGraph, memo: Map<MilestoneId, number>, visiting: Set<MilestoneId>): number {
  const known = memo.get(id);
  if (known !== undefined) return known;
  enter(id, visiting);
  let tail = 0;
  for (const d of g.dependents.get(id) ?? []) tail = Math.max(tail, pathOf(d, g, memo, visiting));
  visiting.delete(id);
  const minutes = (g.byId.get(id)?.estimateMinutes ?? 0) + tail;
  memo.set(id, minutes);
  return minutes;
}

/** Milestones are validated before planning, so a cycle here is a bug, not user input. */
function enter(id: MilestoneId, visiting: Set<MilestoneId>): void {
  if (visiting.has(id)) throw new Error(`buildPlan: dependency cycle through ${id}; validate milestones first`);
  visiting.add(id);
}

function groupByLevel(tasks: readonly TaskInput[], levels: Map<MilestoneId, number>): MilestoneId[][] {
  const groups: MilestoneId[][] = [];
  for (const task of tasks) {
    const level = levels.get(task.id) ?? 0;
    while (groups.length <= level) groups.push([]);
    groups[level]?.push(task.id);
  }
  // A level can only be empty if a higher one is too, but filter anyway so the shape never lies.
  return groups.filter((g) => g.length > 0);
}

/**
 * Starts from the heaviest root (every chain's head has a root ancestor at least as heavy, so roots suffice;
 * starting from roots also keeps zero-minute tasks from hiding the real head) and follows the heaviest
 * dependent. Ties go to letter order.
 */
function heaviestChain(
  tasks: readonly TaskInput[],
  g: LocalGraph,
  levels: Map<MilestoneId, number>,
  paths: Map<MilestoneId, number>,
): { ids: MilestoneId[]; minutes: number } {
  const weight = (id: MilestoneId): number => paths.get(id) ?? 0;
  const roots = tasks.filter((t) => levels.get(t.id) === 0).map((t) => t.id);
  const ids: MilestoneId[] = [];
  let current = heaviest(roots, weight);
  while (current !== undefined) {
    ids.push(current);
    current = heaviest(g.dependents.get(current) ?? [], weight);
  }
  return { ids, minutes: ids[0] === undefined ? 0 : weight(ids[0]) };
}

function heaviest(ids: readonly MilestoneId[], weight: (id: MilestoneId) => number): MilestoneId | undefined {
  let best: MilestoneId | undefined;
  for (const id of ids) if (best === undefined || weight(id) > weight(best)) best = id;
  return best;
}
