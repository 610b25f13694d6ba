import type { MilestoneId } from '../milestones/types.js';
import { formatMinutes } from './duration.js';
import { restrictPlan } from './restrict.js';
import type { Plan, PlanStage, PlanTask } from './types.js';

export interface FormatPlanOptions {
  /** Print only these tasks (a run's selection); their stages' numbers are recomputed for the subset. */
  only?: ReadonlySet<MilestoneId>;
}

/** Long titles would push the estimate column off narrow terminals. */
const MAX_TITLE = 48;
const DEFAULT_MARK = '*';

/**
 * The text `--validate-only` prints, e.g.
 *
 * ```
 * Stage 1 · 3 tasks · critical path 1h 15m (1A → 1C)
 *   1A  Project skeleton   30m
 *   1B  Parser             1h
 *   1C  CLI                45m  after 1A
 *   parallel: [1A 1B] → [1C]
 *
 * Critical path 1h 15m · total work 2h 15m in 3 tasks
 * ```
 */
export function formatPlan(plan: Plan, opts: FormatPlanOptions = {}): string {
  const shown = opts.only ? restrictPlan(plan, opts.only) : plan;
  const tasks = shown.stages.flatMap((s) => s.tasks);
  if (tasks.length === 0) return opts.only ? 'No tasks selected.' : 'No milestones.';

  const widths = columnWidths(tasks);
  const blocks = shown.stages.map((s) => formatStage(s, widths).join('\n'));
  const footer = [summary(plan, shown, opts.only !== undefined)];
  if (tasks.some((t) => t.estimateIsDefault)) {
    footer.push(`${DEFAULT_MARK} no estimate in the milestone file; the default was assumed`);
  }
  return [...blocks, footer.join('\n')].join('\n\n');
}

interface Widths {
  title: number;
  estimate: number;
}

function columnWidths(tasks: readonly PlanTask[]): Widths {
  return {
    title: Math.min(MAX_TITLE, Math.max(...tasks.map((t) => printable(t.title).length))),
    estimate: Math.max(...tasks.map((t) => estimate(t).length)),
  };
}

function formatStage(stage: PlanStage, widths: Widths): string[] {
  const lines = [stageHeader(stage), ...stage.tasks.map((t) => taskRow(t, widths))];
  if (stage.tasks.length > 1) {
    lines.push(`  parallel: ${stage.parallelGroups.map((g) => `[${g.join(' ')}]`).join(' → ')}`);
  }
  return lines;
}

function stageHeader(stage: PlanStage): string {
  const count = plural(stage.tasks.length, 'task');
  const path = `critical path ${formatMinutes(stage.criticalPath.minutes)} (${stage.criticalPath.ids.join(' → ')})`;
  return `Stage ${stage.stage} · ${count} · ${path}`;
}

function taskRow(task: PlanTask, widths: Widths): string {
  const title = fit(printable(task.title), widths.title);
  const after = task.deps.length > 0 ? `after ${task.deps.join(', ')}` : '';
  return `  ${task.id}  ${title}  ${estimate(task).padEnd(widths.estimate)}  ${after}`.trimEnd();
}

function estimate(task: PlanTask): string {
  return formatMinutes(task.estimateMinutes) + (task.estimateIsDefault ? DEFAULT_MARK : '');
}

/**
 * Titles come from the user's files and are printed to a terminal: control characters (an ANSI escape copied
 * into a heading, a bell, a tab) would recolour or garble the output, so each is shown as "?".
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** With a selection, say how much of the whole plan it is: "Selected 2 of 5 tasks". */
function summary(full: Plan, shown: Plan, selection: boolean): string {
  const count = shown.stages.reduce((n, s) => n + s.tasks.length, 0);
  const perStage =
    shown.stages.length > 1
      ? ` (${shown.stages.map((s) => `stage ${s.stage} ${formatMinutes(s.criticalPath.minutes)}`).join(' + ')})`
      : '';
  const path = `critical path ${formatMinutes(shown.criticalPathMinutes)}${perStage}`;
  const work = `total work ${formatMinutes(shown.totalWorkMinutes)}`;
  if (!selection) return `${capitalise(path)} · ${work} in ${plural(count, 'task')}`;
  const total = full.stages.reduce((n, s) => n + s.tasks.length, 0);
  return `Selected ${count} of ${plural(total, 'task')} · ${path} · ${work}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
