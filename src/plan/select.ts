import { error, warning, type Diagnostic } from '../diagnostics.js';
import type { MilestoneId } from '../milestones/types.js';
import { distance } from 'fastest-levenshtein';
import { closest } from '../util/did-you-mean.js';
import type { Plan, PlanTask } from './types.js';

/** What the user asked to run: `--stage N` (repeatable) and `--milestone 1A` (repeatable); they add up. */
export interface TaskSelection {
  stages?: readonly number[];
  milestones?: readonly MilestoneId[];
}

export interface SelectionResult {
  /** Tasks this run executes, in milestone order. Already-done tasks are never in it. */
  selected: MilestoneId[];
  diagnostics: Diagnostic[];
}

/**
 * Decides which tasks a run executes. With no selection, everything not yet done.
 *
 * A selected task can run only when its direct dependencies and every task of every earlier stage are done
 * or selected too: stages run in order and each stage's branches are merged before the next starts, so a
 * later task builds on all of them. Otherwise `dependencies-not-done` names exactly the ids to add (the
 * closure, so following the hint once is enough). Unknown names are errors; the rest is still computed so
 * every problem is reported in one go.
 */
export function selectTasks(plan: Plan, sel: TaskSelection, done: ReadonlySet<MilestoneId>): SelectionResult {
  const tasks = plan.stages.flatMap((s) => s.tasks);
  const diagnostics: Diagnostic[] = [];
  const requested = isEmpty(sel) ? new Set(tasks.map((t) => t.id)) : resolve(plan, sel, done, diagnostics);
  const selected = tasks.filter((t) => requested.has(t.id) && !done.has(t.id)).map((t) => t.id);

  diagnostics.push(...checkDependencies(plan, selected, done));
  if (selected.length === 0 && diagnostics.length === 0) {
    diagnostics.push(warning('nothing-to-run', 'Nothing to run: every selected milestone is already done.'));
  }
  return { selected, diagnostics };
}

function isEmpty(sel: TaskSelection): boolean {
  return (sel.stages?.length ?? 0) === 0 && (sel.milestones?.length ?? 0) === 0;
}

/** Maps the user's stages and milestone names to ids, reporting the unknown ones. */
function resolve(plan: Plan, sel: TaskSelection, done: ReadonlySet<MilestoneId>, out: Diagnostic[]): Set<MilestoneId> {
  const requested = new Set<MilestoneId>();
  for (const n of sel.stages ?? []) {
    const stage = plan.stages.find((s) => s.stage === n);
    if (stage) stage.tasks.forEach((t) => requested.add(t.id));
    else out.push(unknownStage(plan, n));
  }
  const ids = plan.stages.flatMap((s) => s.tasks.map((t) => t.id));
  for (const raw of sel.milestones ?? []) {
    const id = normaliseId(raw);
    if (!ids.includes(id)) {
      out.push(error('unknown-milestone', `There is no milestone "${raw}".`, { hint: unknownMilestoneHint(id, ids) }));
      continue;
    }
    requested.add(id);
    // Naming a done task explicitly is probably a request to redo it; say why nothing happens.
    if (done.has(id)) out.push(warning('already-done', `${id} is already done; it will not run again.`));
  }
  return requested;
}

/**
 * Every two-character id is within two edits of every other, so a plain did-you-mean suggests nonsense ("9Z":
 * did you mean "1A"?). Suggest only a single-edit near miss, and always list what exists.
 */
function unknownMilestoneHint(id: MilestoneId, ids: readonly MilestoneId[]): string {
  if (ids.length === 0) return 'there are no milestones';
  const near = id.length === 2 ? ids.filter((candidate) => distance(candidate, id) === 1) : [];
  const guess = id.length === 2 ? (near.length === 1 ? near[0] : undefined) : closest(id, ids);
  const listed = ids.length > 20 ? `${ids.slice(0, 20).join(', ')}, ...` : ids.join(', ');
  return `${guess ? `did you mean "${guess}"? ` : ''}milestones: ${listed}`;
}

/** Be forgiving about how an id is typed: ` 1a `, `1A.md`. */
function normaliseId(raw: string): MilestoneId {
  return raw.trim().replace(/\.md$/i, '').toUpperCase();
}

function unknownStage(plan: Plan, n: number): Diagnostic {
  const existing = plan.stages.map((s) => s.stage);
  const hint = existing.length > 0 ? `stages with milestones: ${existing.join(', ')}` : 'there are no milestones';
  return error('unknown-stage', `There is no stage ${n}.`, { hint });
}

function checkDependencies(plan: Plan, selected: readonly MilestoneId[], done: ReadonlySet<MilestoneId>): Diagnostic[] {
  const tasks = plan.stages.flatMap((s) => s.tasks);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const ready = new Set([...selected, ...done]);
  const needs = (t: PlanTask): MilestoneId[] => [
    ...t.deps,
    ...tasks.filter((o) => o.stage < t.stage).map((o) => o.id),
  ];

  // Tasks that miss exactly the same ids share one diagnostic, so `--stage 3` on a fresh repo is one error.
  const byMissing = new Map<string, { blocked: MilestoneId[]; missing: MilestoneId[] }>();
  for (const id of selected) {
    const task = byId.get(id);
    if (!task) continue;
    const missing = missingClosure(task, needs, byId, ready);
    if (missing.length === 0) continue;
    const key = missing.join(',');
    const group = byMissing.get(key) ?? { blocked: [], missing };
    group.blocked.push(id);
    byMissing.set(key, group);
  }
  return [...byMissing.values()].map((g) => notDone(plan, g.blocked, g.missing, done));
}

/** Everything `task` needs that is neither done nor selected, including what those need in turn. */
function missingClosure(
  task: PlanTask,
  needs: (t: PlanTask) => MilestoneId[],
  byId: ReadonlyMap<MilestoneId, PlanTask>,
  ready: ReadonlySet<MilestoneId>,
): MilestoneId[] {
  const missing = new Set<MilestoneId>();
  const queue = [task];
  for (let t = queue.shift(); t; t = queue.shift()) {
    for (const id of needs(t)) {
      const dep = byId.get(id);
      if (ready.has(id) || missing.has(id) || !dep) continue;
      missing.add(id);
      queue.push(dep);
    }
  }
  return [...byId.keys()].filter((id) => missing.has(id));
}

function notDone(plan: Plan, blocked: MilestoneId[], missing: MilestoneId[], done: ReadonlySet<MilestoneId>): Diagnostic {
  const subject = blocked.length === 1 ? `${blocked[0]} cannot run` : `${blocked.join(', ')} cannot run`;
  const verb = missing.length === 1 ? 'is' : 'are';
  const message = `${subject}: ${missing.join(', ')} ${verb} neither done nor selected.`;
  const firstStage = Math.min(...blocked.map((id) => stageOf(plan, id)));
  const whyStages = missing.some((id) => stageOf(plan, id) < firstStage)
    ? ' Stages run in order, so every earlier stage must be done or selected.'
    : '';
  const hint = `Select them too (${selectionFlags(plan, missing, done)}) or run them first.${whyStages}`;
  return error('dependencies-not-done', message, { hint });
}

/** `--stage N` where the missing ids are all that is left of stage N, `--milestone X` for the rest. */
function selectionFlags(plan: Plan, missing: readonly MilestoneId[], done: ReadonlySet<MilestoneId>): string {
  const flags: string[] = [];
  for (const stage of plan.stages) {
    const inStage = missing.filter((id) => stageOf(plan, id) === stage.stage);
    if (inStage.length === 0) continue;
    const left = stage.tasks.filter((t) => !done.has(t.id));
    if (left.length > 1 && left.every((t) => inStage.includes(t.id))) flags.push(`--stage ${stage.stage}`);
    else flags.push(...inStage.map((id) => `--milestone ${id}`));
  }
  return flags.join(' ');
}

function stageOf(plan: Plan, id: MilestoneId): number {
  return plan.stages.find((s) => s.tasks.some((t) => t.id === id))?.stage ?? 0;
}
