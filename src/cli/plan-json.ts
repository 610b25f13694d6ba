import type { Diagnostic } from '../diagnostics.js';
import type { Milestone, MilestoneId } from '../milestones/types.js';
import { restrictPlan } from '../plan/restrict.js';
import type { Plan } from '../plan/types.js';

/**
 * `orchestrate --validate-only --json`: the plan as one JSON document for tools (editors, CI annotations, dashboards).
 * Every key is always present (null or [] when empty); keys are only ever added, and `schemaVersion` goes up when
 * one changes meaning. Durations are minutes.
 */
export interface PlanDocument {
  schemaVersion: 1;
  /** No errors: a run could start (warnings allowed). */
  valid: boolean;
  /** The repository (or folder) validated, absolute. */
  repo: string;
  /** The configuration file, relative to `repo`; null when the defaults were used. */
  config: string | null;
  milestonesDir: string;
  /** Set by --stage / --milestone: what a run with them would run. null when everything is selected. */
  selection: { stages: number[]; milestones: MilestoneId[]; selected: MilestoneId[] } | null;
  /**
   * The stages to run, in order (the selected part when there is a selection): task ids in milestone order, the
   * groups that can start together, and the stage's critical path.
   */
  stages: Array<{ stage: number; tasks: MilestoneId[]; parallelGroups: MilestoneId[][]; criticalPath: { ids: MilestoneId[]; minutes: number } }>;
  /** Every milestone of the plan, in stage and letter order. */
  tasks: Array<{
    id: MilestoneId;
    stage: number;
    title: string;
    /** Relative to `repo`, forward slashes. */
    file: string | null;
    /** Direct dependencies (same or earlier stages). */
    deps: MilestoneId[];
    estimateMinutes: number;
    /** True when the milestone gives no estimate and the default was assumed. */
    estimateIsDefault: boolean;
    /** Longest estimated chain inside its stage that starts with it: the scheduler starts the highest first. */
    criticalPathMinutes: number;
    /** Done and merged in an earlier run: a new run skips it. */
    done: boolean;
    /** A run with these options would run it. */
    selected: boolean;
  }>;
  /** Sum of the stages' critical paths: the estimated duration with unlimited parallelism. */
  criticalPathMinutes: number;
  totalWorkMinutes: number;
  diagnostics: Array<{ severity: Diagnostic['severity']; code: string; file: string | null; line: number | null; col: number | null; message: string; hint: string | null }>;
}

export interface PlanDocumentInput {
  repo: string;
  config: string | null;
  milestonesDir: string;
  /** Absent when the milestones have errors: the document then has no stages or tasks. */
  plan?: Plan;
  milestones: readonly Milestone[];
  /** What a run would run (after --stage/--milestone and done tasks). */
  selected: readonly MilestoneId[];
  selection: { stages: number[]; milestones: MilestoneId[] } | null;
  done: ReadonlySet<MilestoneId>;
  diagnostics: readonly Diagnostic[];
}

export function planDocument(input: PlanDocumentInput): PlanDocument {
  const selected = new Set(input.selected);
  const shown = input.plan && input.selection ? restrictPlan(input.plan, selected) : input.plan;
  const files = new Map(input.milestones.map((m) => [m.id, m.file]));
  return {
    schemaVersion: 1,
    valid: !input.diagnostics.some((d) => d.severity === 'error'),
    repo: input.repo,
    config: input.config,
    milestonesDir: input.milestonesDir,
    selection: input.selection ? { ...input.selection, selected: [...input.selected] } : null,
    stages: (shown?.stages ?? []).map((s) => ({ stage: s.stage, tasks: s.tasks.map((t) => t.id), parallelGroups: s.parallelGroups, criticalPath: s.criticalPath })),
    tasks: (input.plan?.stages ?? []).flatMap((s) =>
      s.tasks.map((t) => ({
        id: t.id,
        stage: t.stage,
        title: t.title,
        file: files.get(t.id) ?? null,
        deps: t.deps,
        estimateMinutes: t.estimateMinutes,
        estimateIsDefault: t.estimateIsDefault === true,
        criticalPathMinutes: t.criticalPathMinutes,
        done: input.done.has(t.id),
        selected: selected.has(t.id),
      })),
    ),
    criticalPathMinutes: shown?.criticalPathMinutes ?? 0,
    totalWorkMinutes: shown?.totalWorkMinutes ?? 0,
    diagnostics: input.diagnostics.map((d) => ({
      severity: d.severity,
      code: d.code,
      file: d.file ?? null,
      line: d.line ?? null,
      col: d.col ?? null,
      message: d.message,
      hint: d.hint ?? null,
    })),
  };
}
