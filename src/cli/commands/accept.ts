import { existsSync } from 'node:fs';
import path from 'node:path';
import { commitAll } from '../../git/commit.js';
import { runGitWithoutHooks } from '../../git/client.js';
import { decideRunSandboxes } from '../../sandbox/for-run.js';
import { describeNestedRepositories } from '../../git/nested.js';
import { commitsBetween } from '../../git/repo.js';
import { listWorktrees, samePath, worktreeHead, worktreeReadProblem } from '../../git/worktree.js';
import { runCommand } from '../../run/commands.js';
import { branchFor } from '../../run/context.js';
import type { CheckRecord, RunState, TaskRecord } from '../../state/run-state.js';
import type { TaskActionOptions } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { fail } from '../print.js';
import { shellQuote } from '../../report/attention.js';
import { takeLock } from './clean-lock.js';
import { loadTaskAction, resumeRun, saveState, type TaskActionInputs } from './task-action.js';
import { reopenDependents } from '../../state/reopen-dependents.js';

/**
 * `orchestrate accept <id>`: the user fixed a task that needs attention (or failed) by hand in its worktree.
 * Under the run lock: whatever is left uncommitted there is committed (`<id>: accepted by hand`), the task's checks
 * run in the worktree, and when they pass the task is recorded as done (with the checks and the time of the
 * acceptance). Then the run continues as `orchestrate --resume` does, with nothing to run: the finished-but-unmerged
 * task is merged like any other, through the same stage merge. Failing checks leave the task as it was (exit 1).
 */
export async function acceptCommand(opts: TaskActionOptions, io: Io): Promise<number> {
  const loaded = await loadTaskAction(opts, io);
  if (!loaded.ok) return loaded.code;
  const inputs = loaded.inputs;
  const { ws, task } = inputs;
  const lock = await takeLock(ws.lockFile, `orchestrate accept ${task.id}`);
  if (!lock.held) {
    io.stderr(fail(lock.reason, 'wait for the run to finish (or stop it), then accept'));
    return EXIT.locked;
  }
  let accepted: true | number;
  try {
    accepted = await acceptLocked(inputs, io);
  } finally {
    await lock.release();
  }
  if (accepted !== true) return accepted;
  io.stdout(`${task.id} accepted; merging it now (as orchestrate --resume would).\n`);
  const code = await resumeRun(inputs, [], io, opts.cwd);
  // The run refused to start (no agent, no sandbox): the acceptance is recorded, only its merge is still owed.
  if (code === EXIT.environment) {
    io.stderr(`${task.id} stays accepted (done, not merged yet); once that is fixed, orchestrate --resume merges it\n`);
  }
  return code;
}

/** True when accepted; otherwise the exit code (the reason is printed). */
async function acceptLocked(inputs: TaskActionInputs, io: Io): Promise<true | number> {
  const { ws, state, task, milestone } = inputs;
  // Derived from the configuration, as a resume does: the state file's paths are only for display.
  const worktree = path.join(ws.worktreeDir, task.id);
  const problem = await worktreeProblem(ws.repo.root, worktree, { ...task, branch: branchFor(ws.config, task.id) });
  if (problem) {
    io.stderr(fail(problem, `run the task again instead: orchestrate retry ${task.id}`));
    return EXIT.runFailed;
  }
  const unreadable = await unreadableWorktree(ws.repo.root, worktree, task.id, io);
  if (unreadable !== undefined) return unreadable;
  // The checks and hooks run the code in the worktree, which an agent wrote: in the run's sandbox, as in the run
  // (git.hooks: false skips the hooks). A machine that lost the sandbox is told what to install, before any commit.
  const sandboxes = await decideRunSandboxes(ws.config, io.env, ws.repo.commonDir);
  if (sandboxes.kind === 'unavailable') {
    io.stderr(fail(`${task.id} not accepted: the sandbox its checks and hooks run in is not available: ${sandboxes.problem}`));
    return EXIT.environment;
  }
  for (const warning of sandboxes.warnings) io.stderr(`warning: ${warning}\n`);
  const sandbox = sandboxes.commands;
  if (sandbox) runGitWithoutHooks();
  const committed = await commitAll(worktree, `${task.id}: ${task.title}\n\nFixed by hand and accepted with orchestrate accept ${task.id}.`, { hooks: ws.config.git.hooks, ...(sandbox ? { sandbox, hookTimeoutMs: ws.config.checks.timeout * 1000 } : {}) });
  if (committed.kind === 'hook_failed') {
    io.stderr(fail(`${task.id} not accepted: the ${committed.hook} hook refused to commit your changes in ${worktree}:\n${indent(committed.output)}`, `fix what it says, or commit there yourself, then run orchestrate accept ${task.id} again`));
    return EXIT.runFailed;
  }
  if (committed.kind === 'nested_repository') {
    io.stderr(fail(`${task.id} not accepted: ${describeNestedRepositories(committed.nested).replace(/^the worktree/, `the worktree ${worktree}`)}`, `remove them as shown (or commit there yourself), then run orchestrate accept ${task.id} again`));
    return EXIT.runFailed;
  }
  if (committed.kind === 'committed') io.stdout(`committed your uncommitted changes in ${worktree} as ${committed.sha.slice(0, 7)}\n`);
  const commands = milestone.settings.checks ?? ws.config.checks.commands;
  const checks: CheckRecord[] = [];
  for (const command of commands) {
    io.stdout(`check \`${command}\` … `);
    const r = await runCommand(command, { cwd: worktree, timeoutMs: ws.config.checks.timeout * 1000, ...(sandbox ? { sandbox } : {}) });
    checks.push({ command, ok: r.ok, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs, ...(r.ok ? {} : { outputTail: r.outputTail.slice(-2000) }) });
    io.stdout(r.ok ? 'passed\n' : `${r.timedOut ? 'timed out' : `failed (exit ${r.exitCode})`}\n${indent(r.outputTail.trimEnd())}\n`);
  }
  if (commands.length === 0) io.stdout(`${task.id} has no checks (checks.commands or front matter checks); accepted on your word\n`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    io.stderr(
      fail(
        `${task.id} not accepted: ${failed.map((c) => `\`${c.command}\``).join(', ')} failed in ${worktree}`,
        `fix it there and run orchestrate accept ${task.id} again, or let the agent try: orchestrate retry ${task.id}`,
      ),
    );
    return EXIT.runFailed;
  }
  // A check run without the sandbox can overwrite the worktree's .git file: then nothing can be recorded or merged.
  const broken = await unreadableWorktree(ws.repo.root, worktree, task.id, io);
  if (broken !== undefined) return broken;
  await markAccepted(state, task, worktree, checks);
  const reopened = reopenDependents(state, new Map(inputs.milestones.map((m) => [m.id, m.dependencies.map((d) => d.id)])));
  if (reopened.length > 0) io.stdout(`no longer skipped (not run yet; orchestrate --resume runs them): ${reopened.join(', ')}\n`);
  await saveState(ws, state);
  return true;
}

/**
 * EXIT.usage, after saying so, when git cannot read the worktree (a command overwrote its `.git` file): the task
 * cannot be committed or merged until `git worktree repair`, run in the repository, rewrites that file. Undefined when git reads it.
 */
async function unreadableWorktree(root: string, worktree: string, id: string, io: Io): Promise<number | undefined> {
  const problem = await worktreeReadProblem(worktree);
  if (problem === undefined) return undefined;
  io.stderr(fail(`${id} not accepted: git cannot read its worktree ${worktree} (${problem})`, `git -C ${shellQuote(root)} worktree repair rewrites its .git file from the repository's records (with the worktree's path added git repairs it too, but then reports 'unable to locate repository' and exits 1); then run orchestrate accept ${id} again`));
  return EXIT.usage;
}

/** The task's worktree must still be there, on the task's branch: that is what gets merged. */
async function worktreeProblem(root: string, worktree: string, task: TaskRecord): Promise<string | undefined> {
  if (!existsSync(worktree)) return `${task.id}'s worktree ${worktree} does not exist any more`;
  const entry = (await listWorktrees(root)).find((w) => samePath(w.path, worktree));
  if (!entry) return `${worktree} is not a git worktree of this repository`;
  if (entry.branch !== task.branch) return `${worktree} is on ${entry.branch ?? 'a detached HEAD'}, not on ${task.branch}; check out ${task.branch} there first`;
  return undefined;
}

async function markAccepted(state: RunState, task: TaskRecord, worktree: string, checks: CheckRecord[]): Promise<void> {
  task.status = 'done';
  delete task.reason;
  delete task.phase;
  task.accepted = { at: new Date().toISOString(), checks };
  task.headSha = (await worktreeHead(worktree)) ?? task.headSha;
  if (task.headSha && task.baseSha) task.commits = await commitsBetween(worktree, task.baseSha, task.headSha);
  // A later stage may have been merged already (on_failure: "continue"): this stage's merge then builds on that.
  const stage = state.stages.find((s) => s.stage === task.stage);
  const newest = state.stages.filter((s) => s.stage > task.stage && s.mergedSha).at(-1)?.mergedSha;
  if (stage && newest) stage.mergedSha = newest;
}

function indent(text: string): string {
  return text
    .split('\n')
    .slice(-20)
    .map((l) => `    | ${l}`)
    .join('\n');
}
