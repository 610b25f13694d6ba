import { hasErrors } from '../../diagnostics.js';
import { loadMilestones } from '../../milestones/load.js';
import type { Milestone, MilestoneId } from '../../milestones/types.js';
import { buildPlan } from '../../plan/index.js';
import type { Plan } from '../../plan/types.js';
import { needsAction } from '../../report/attention.js';
import { tasksMdProblem, writeTasksMd } from '../../report/tasks-md.js';
import { pathInGit } from '../../git/repo.js';
import { RunStateStore, type RunState, type TaskRecord } from '../../state/run-state.js';
import { closest } from '../../util/did-you-mean.js';
import type { TaskActionOptions } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { fail, printDiagnostics } from '../print.js';
import { openWorkspace, readState, type Workspace } from './workspace.js';

/** Why `accept`/`retry` cannot act on a task: a typed value, printed in one place. */
export type TaskActionRefusal =
  | { kind: 'no_run' }
  | { kind: 'unknown_task'; id: string; known: string[] }
  | { kind: 'wrong_status'; id: string; status: TaskRecord['status'] };

/** Pure: whether `orchestrate <action> <id>` may act on this run's task. Ids are case-insensitive. */
export function checkTaskAction(state: RunState | undefined, id: string): { ok: true; task: TaskRecord } | { ok: false; refusal: TaskActionRefusal } {
  if (!state) return { ok: false, refusal: { kind: 'no_run' } };
  const task = state.tasks[id.toUpperCase()];
  if (!task) return { ok: false, refusal: { kind: 'unknown_task', id, known: Object.keys(state.tasks).sort() } };
  if (!needsAction(task)) return { ok: false, refusal: { kind: 'wrong_status', id: task.id, status: task.status } };
  return { ok: true, task };
}

export function describeRefusal(action: 'accept' | 'retry', r: TaskActionRefusal): string {
  switch (r.kind) {
    case 'no_run':
      return fail(`no run is recorded here, so there is no task to ${action}`, 'start a run with: orchestrate');
    case 'unknown_task': {
      const near = closest(r.id, r.known);
      return fail(`the last run has no task ${r.id}${near ? ` (did you mean ${near}?)` : ''}`, `its tasks: ${r.known.join(', ') || 'none'}; see orchestrate status`);
    }
    case 'wrong_status':
      return fail(
        `${r.id} is ${r.status.replace('_', ' ')}; only a task that needs attention or failed can be ${action === 'accept' ? 'accepted' : 'retried'}`,
        r.status === 'skipped' || r.status === 'pending' || r.status === 'blocked' ? 'run it with: orchestrate --resume' : 'see orchestrate status',
      );
    default: {
      const never: never = r;
      return never;
    }
  }
}

/** Everything `accept` and `retry` work from: the workspace, the last run, the task, its milestone and the plan. */
export interface TaskActionInputs {
  ws: Workspace;
  state: RunState;
  task: TaskRecord;
  milestone: Milestone;
  milestones: Milestone[];
  plan: Plan;
}

/** Loads and checks what `accept`/`retry` need; every problem is printed here and its exit code returned. */
export async function loadTaskAction(opts: TaskActionOptions, io: Io): Promise<{ ok: true; inputs: TaskActionInputs } | { ok: false; code: number }> {
  const opened = await openWorkspace(opts, io);
  if (!opened.ok) return opened;
  const ws = opened.workspace;
  const read = await readState(ws, io);
  if (!read.ok) return read;
  const checked = checkTaskAction(read.state, opts.id);
  if (!checked.ok) {
    io.stderr(describeRefusal(opts.command, checked.refusal));
    return { ok: false, code: EXIT.usage };
  }
  const loaded = await loadMilestones({ repoRoot: ws.repo.root, milestonesDir: ws.config.milestones_dir });
  const diagnostics = [...loaded.diagnostics, ...[tasksMdProblem(ws.repo.root, await pathInGit(ws.repo.root, 'TASKS.md'))].filter((d) => d !== undefined)];
  printDiagnostics(diagnostics, io.stderr);
  if (hasErrors(diagnostics)) return { ok: false, code: EXIT.usage };
  const milestone = loaded.milestones.find((m) => m.id === checked.task.id);
  if (!milestone) {
    io.stderr(fail(`${checked.task.id} is no longer among the milestones in ${ws.config.milestones_dir}/`, `put its milestone file back, or start a new run`));
    return { ok: false, code: EXIT.usage };
  }
  return { ok: true, inputs: { ws, state: read.state!, task: checked.task, milestone, milestones: loaded.milestones, plan: buildPlan(loaded.milestones) } };
}

/** Saves the state file and TASKS.md, atomically, as the engine does. Call only while holding the run lock. */
export async function saveState(ws: Workspace, state: RunState): Promise<void> {
  const store = new RunStateStore(ws.stateFile);
  await store.save(state);
  await store.flush();
  await writeTasksMd(ws.tasksMd, state, ws.stateDir, ws.repo.root);
}

/** The ids a resumed run counts as finished: every done task, merged or not (the resume merges what is left). */
export function doneIds(state: RunState): Set<MilestoneId> {
  return new Set(Object.values(state.tasks).filter((t) => t.status === 'done').map((t) => t.id));
}

/** Continues the recorded run through the same path as `orchestrate --resume`, running only `selected`. */
export async function resumeRun(inputs: TaskActionInputs, selected: MilestoneId[], io: Io, cwd: string): Promise<number> {
  const { startRun } = await import('../start-run.js');
  return startRun({
    opts: { command: 'run', stages: [], milestones: [], resume: true, validateOnly: false, json: false, cwd },
    io,
    repo: inputs.ws.repo,
    config: inputs.ws.config,
    milestones: inputs.milestones,
    plan: inputs.plan,
    selected,
    previous: inputs.state,
    done: doneIds(inputs.state),
  });
}
