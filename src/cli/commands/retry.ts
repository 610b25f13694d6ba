import { retryFeedback } from '../../report/attention.js';
import type { TaskActionOptions } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { fail } from '../print.js';
import { takeLock } from './clean-lock.js';
import { loadTaskAction, resumeRun, saveState } from './task-action.js';

/**
 * `orchestrate retry <id>`: runs a task that needs attention (or failed) again, in its worktree, continuing its
 * agent session when there is one. The first agent call is told the last round's failed checks and review findings
 * (or the failure's reason); checks, review and up to `review.max_rounds` remediation rounds follow as in any run,
 * and the task is merged when approved. Only this task runs: the rest of the run continues with `orchestrate --resume`.
 */
export async function retryCommand(opts: TaskActionOptions, io: Io): Promise<number> {
  const loaded = await loadTaskAction(opts, io);
  if (!loaded.ok) return loaded.code;
  const inputs = loaded.inputs;
  const { ws, state, task } = inputs;
  const lock = await takeLock(ws.lockFile, `orchestrate retry ${task.id}`);
  if (!lock.held) {
    io.stderr(fail(lock.reason, 'wait for the run to finish (or stop it), then retry'));
    return EXIT.locked;
  }
  try {
    const feedback = retryFeedback(task);
    if (feedback) task.retryFeedback = feedback;
    await saveState(ws, state);
  } finally {
    await lock.release();
  }
  io.stdout(`retrying ${task.id}${task.retryFeedback ? ' with the last round\'s findings' : ''}\n`);
  return resumeRun(inputs, [task.id], io, opts.cwd);
}
