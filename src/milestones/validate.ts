import { distance } from 'fastest-levenshtein';
import { error, warning, type Diagnostic } from '../diagnostics.js';
import { findCycles } from './cycles.js';
import { compareIds, stageOf } from './ids.js';
import type { DependencyRef, Milestone, MilestoneId } from './types.js';

export interface ValidateOptions {
  /**
   * Ids whose files exist but could not be loaded (too large, not UTF-8, ...). Their own error already says
   * why; references to them are not reported again as unknown.
   */
  unloadableIds?: readonly MilestoneId[];
}

/** Checks that need all milestones at once: dependency targets, stage order, cycles, stage gaps. Pure. */
export function validateMilestones(milestones: readonly Milestone[], options: ValidateOptions = {}): Diagnostic[] {
  const ids = milestones.map((m) => m.id).sort(compareIds);
  const existing = new Set([...ids, ...(options.unloadableIds ?? [])]);
  const diagnostics: Diagnostic[] = [];
  for (const milestone of milestones) {
    for (const ref of milestone.dependencies) {
      const problem = checkReference(milestone, ref, existing, ids);
      if (problem) diagnostics.push(problem);
    }
  }
  diagnostics.push(...cycleDiagnostics(milestones), ...stageGapDiagnostics(milestones, existing));
  return diagnostics;
}

function checkReference(milestone: Milestone, ref: DependencyRef, existing: ReadonlySet<MilestoneId>, ids: MilestoneId[]): Diagnostic | undefined {
  const at = { file: milestone.file, line: ref.line, col: ref.col };
  if (ref.id === milestone.id) {
    return error('self-dependency', `${milestone.id} depends on itself`, { ...at, hint: `remove ${ref.id} from its own dependencies` });
  }
  if (!existing.has(ref.id)) {
    return error('unknown-dependency', `${milestone.id} depends on ${ref.id}, but there is no milestone ${ref.id}`, {
      ...at,
      hint: unknownDependencyHint(ref.id, ids, milestone.id),
    });
  }
  const stage = stageOf(ref.id);
  if (stage > milestone.stage) {
    return error('dependency-on-later-stage', `${milestone.id} (stage ${milestone.stage}) depends on ${ref.id}, which is in the later stage ${stage}`, {
      ...at,
      hint: `stages run in order, so ${ref.id} cannot be finished before ${milestone.id} starts; move ${milestone.id} to stage ${stage} or later (e.g. rename it to ${stage}X.md), or move ${ref.id} to stage ${milestone.stage} or earlier`,
    });
  }
  return undefined;
}

/** Two-character ids are all within two edits of each other, so only a single-edit near miss is suggested. */
function unknownDependencyHint(wanted: MilestoneId, ids: MilestoneId[], self: MilestoneId): string {
  const near = ids.filter((id) => id !== self && distance(id, wanted) === 1);
  const listed = ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, ...` : ids.join(', ');
  const suggestion = near.length === 1 ? `did you mean ${near[0]}? ` : '';
  return `${suggestion}existing milestones: ${listed || 'none'}; create ${wanted}.md or remove the reference`;
}

/** Dependencies inside one stage must not go round in a circle, or none of the tasks in it can start. */
function cycleDiagnostics(milestones: readonly Milestone[]): Diagnostic[] {
  const byId = new Map(milestones.map((m) => [m.id, m]));
  const edges = new Map<MilestoneId, MilestoneId[]>();
  for (const m of milestones) {
    const sameStage = m.dependencies.map((ref) => ref.id).filter((id) => id !== m.id && byId.has(id) && stageOf(id) === m.stage);
    edges.set(m.id, sameStage.sort(compareIds));
  }
  return findCycles(edges, compareIds).map(({ path, others }) => {
    const first = byId.get(path[0] ?? '');
    const ref = first?.dependencies.find((dep) => dep.id === path[1]);
    const members = [...path, path[0]].join(' -> ');
    const tangled = others.length > 0 ? ` (${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} caught up in it too)` : '';
    const last = path[path.length - 1];
    return error('dependency-cycle', `dependency cycle: ${members}${tangled}`, {
      file: first?.file,
      line: ref?.line,
      col: ref?.col,
      hint: `"A -> B" means A depends on B; tasks in a cycle can never start, so remove one of these dependencies (for example ${last}'s dependency on ${path[0]})`,
    });
  });
}

/** Stages 1 and 3 without a 2 are legal (empty stages are skipped) but usually a typo in a file name. */
function stageGapDiagnostics(milestones: readonly Milestone[], existing: ReadonlySet<MilestoneId>): Diagnostic[] {
  const stages = [...new Set([...existing].map(stageOf))].sort((a, b) => a - b);
  const diagnostics: Diagnostic[] = [];
  for (let i = 1; i < stages.length; i++) {
    const before = stages[i - 1] ?? 0;
    const after = stages[i] ?? 0;
    if (after - before <= 1) continue;
    const missing = after - before === 2 ? `stage ${before + 1}` : `stages ${before + 1}-${after - 1}`;
    const firstAfter = [...milestones].sort((a, b) => compareIds(a.id, b.id)).find((m) => m.stage === after);
    diagnostics.push(
      warning('stage-gap', `there are no milestones in ${missing}, between stage ${before} and stage ${after}`, {
        file: firstAfter?.file,
        hint: `if that is intended, nothing will run for ${missing}; otherwise rename files so stages are consecutive (e.g. ${after}A.md -> ${before + 1}A.md)`,
      }),
    );
  }
  return diagnostics;
}
