import { addSecretValues } from '../agents/redact.js';
import path from 'node:path';
import { createClaudeAdapter } from '../agents/claude/adapter.js';
import type { Config } from '../config/schema.js';
import { decideRunSandboxes } from '../sandbox/for-run.js';
import { runGitWithoutHooks } from '../git/client.js';
import { takeResultCommand } from '../git/merge.js';
import type { RepoInfo } from '../git/repo.js';
import type { Milestone, MilestoneId } from '../milestones/types.js';
import type { Plan } from '../plan/types.js';
import { createLogger } from '../report/logger.js';
import { runPaths } from '../run/context.js';
import { tasksMdOwnFile } from '../report/tasks-md-own-file.js';
import { executeRun } from '../run/engine.js';
import type { RunState } from '../state/run-state.js';
import { killAllProcessTreesNow } from '../util/process.js';
import type { RunOptions } from './args.js';
import { EXIT } from './exit-codes.js';
import { PACKAGE_ROOT, type Io } from './package.js';
import { createRunOutput } from './output.js';
import { fail } from './print.js';
import { summarizeRun } from './summary.js';

/** A run, from the agent preflight to the exit code: loaded only when one starts. */
export async function startRun(p: { opts: RunOptions; io: Io; repo: RepoInfo; config: Config; milestones: Milestone[]; plan: Plan; selected: MilestoneId[]; previous: RunState | undefined; done: Set<MilestoneId> }): Promise<number> {
  const { io, config } = p;
  // agent.env values are secret whatever their names: every writer of this process redacts them from here on.
  addSecretValues(config.agent.env, 'agent.env');
  // The sandbox first: a machine without it is told what to install before anything else happens or is created.
  const sandboxes = await decideRunSandboxes(config, io.env, p.repo.commonDir);
  if (sandboxes.kind === 'unavailable') {
    io.stderr(fail(`the agents' sandbox is not available: ${sandboxes.problem}`));
    return EXIT.environment;
  }
  for (const warning of sandboxes.warnings) io.stderr(`warning: ${warning}\n`);
  const sandbox = sandboxes.agents;
  const commandSandbox = sandboxes.commands;
  if (commandSandbox) runGitWithoutHooks();
  const adapter = createClaudeAdapter({
    ...(config.agent.command ? { command: toArgv(config.agent.command) } : {}),
    projectRoot: PACKAGE_ROOT,
    ...(sandbox.kind === 'on' ? { sandbox: sandbox.policy } : {}),
  });
  const availability = await adapter.preflight(io.env);
  if (!availability.ok) {
    io.stderr(fail(`the agent cannot run: ${availability.problem}`));
    return EXIT.environment;
  }
  // A resumed run with every task finished may still owe merges (a crash came between a task and its merge).
  // So may its end: every task done and merged, but the crash came before the state said the run was over (status
  // said "continue with: orchestrate --resume", and it was left "running" for ever).
  const mergesOwed =
    p.opts.resume && p.previous !== undefined && (p.previous.status !== 'completed' || Object.values(p.previous.tasks).some((t) => t.status === 'done' && !t.merged));
  // Live view on a terminal, plain lines in a pipe or CI, NDJSON events with --json (src/cli/output.ts).
  const output = createRunOutput({ json: p.opts.json, io, terminal: process.stdout, verbosity: p.opts.verbosity ?? 'normal' });
  if (p.selected.length === 0 && !mergesOwed) {
    output.info('Nothing to run: every selected milestone is already done.\n');
    return EXIT.ok;
  }
  const logger = createLogger({
    // --verbose: debug lines for the terminal, and in the log file as well.
    level: p.opts.verbosity === 'verbose' ? 'debug' : config.logging.level,
    dir: runPaths(p.repo.root, config, 'none', io.env).logDir,
    env: io.env,
    echo: output.echo,
  });
  const controller = new AbortController();
  const detach = onInterrupt(controller, { ...io, stderr: output.error });
  const internal = stopOnInternalError(controller, (message) => output.error(`${message}\n`), (detail) => logger.error(detail));
  process.on('unhandledRejection', internal);
  let finalState: RunState | undefined;
  try {
    const end = await executeRun({
      repo: p.repo,
      config,
      milestones: p.milestones,
      plan: p.plan,
      selected: p.selected,
      carriedOver: [...p.done],
      ...(p.opts.resume && p.previous ? { previous: p.previous } : {}),
      adapter,
      ...(commandSandbox ? { commandSandbox } : {}),
      logger,
      signal: controller.signal,
      command: ['orchestrate', ...process.argv.slice(2)].join(' '),
      ...(output.onEvent ? { onEvent: output.onEvent } : {}),
    });
    if (end.kind === 'finished') finalState = end.state;
    output.finish(finalState);
    switch (end.kind) {
      case 'locked':
        output.error(fail(end.message, 'wait for it to finish, or stop it; a lock whose process has exited (a crashed run) is taken over automatically'));
        return EXIT.locked;
      case 'refused':
        output.error(fail(end.message));
        return EXIT.environment;
      case 'finished':
        output.info(summarizeRun(end.state, p.repo.root, Date.now(), await integrationCommand(end.state, p.repo.root)));
        return exitCodeFor(end.state.status);
      default: {
        const never: never = end;
        return never;
      }
    }
  } finally {
    // Also after a throw: the live block must not keep redrawing over the error.
    output.finish(finalState);
    detach();
    process.off('unhandledRejection', internal);
    await logger.close();
  }
}

function exitCodeFor(status: RunState['status']): number {
  switch (status) {
    case 'completed':
      return EXIT.ok;
    case 'paused':
      return EXIT.paused;
    case 'interrupted':
      return EXIT.interrupted;
    case 'failed':
    case 'stopped':
    case 'running':
      return EXIT.runFailed;
    default: {
      const never: never = status;
      return never;
    }
  }
}

/**
 * The last net under the task boundary (run/task.ts): a rejection nobody awaited (a bug in detached work) would end
 * Node at once, leaving the state "running" and the worktrees locked. Instead the run stops as for Ctrl-C: no new
 * task, running agents asked to stop, the state saved as interrupted, and `say` tells the user what happened (once;
 * later ones are only logged). Returns the `unhandledRejection` listener.
 */
export function stopOnInternalError(controller: AbortController, say: (message: string) => void, log: (detail: string) => void): (reason: unknown) => void {
  return (reason) => {
    const message = reason instanceof Error ? reason.message : String(reason);
    // The stack goes to the log file, for the bug report; the terminal gets what happened and what to do.
    log(`internal error (unhandled rejection): ${reason instanceof Error ? (reason.stack ?? message) : message}`);
    if (controller.signal.aborted) return;
    say(`internal error (a bug; please report it with the log file): ${message}. Stopping the run: no new tasks, running agents are asked to stop and the state is saved. Continue with orchestrate --resume.`);
    controller.abort(new Error(`internal error: ${message}`));
  };
}

/** First Ctrl-C: stop starting work and ask running agents to stop. Second: leave now. */
function onInterrupt(controller: AbortController, io: Io): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      io.stderr(`\n${sig}: stopping — no new tasks; running agents are asked to stop and the state is saved. Press Ctrl-C again to quit at once.\n`);
      controller.abort(new Error(`interrupted by ${sig}`));
    } else {
      io.stderr(`${sig} again: killing the agents and quitting now. Continue later with orchestrate --resume.\n`);
      killAllProcessTreesNow();
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

function toArgv(command: string | string[]): string[] {
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

/** How to take a result left on the integration branch, as the working tree is at the end of the run. */
async function integrationCommand(state: RunState, repoRoot: string): Promise<string | undefined> {
  if (!state.integrationBranch) return undefined;
  return takeResultCommand({
    repoRoot,
    target: state.targetBranch,
    integrationBranch: state.integrationBranch,
    ownFiles: [tasksMdOwnFile(path.join(repoRoot, 'TASKS.md'), () => state, repoRoot)],
  }).catch(() => undefined);
}
