import { runGitWithoutHooks } from '../../git/client.js';
import type { StatusOptions } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { buildStatusDocument } from './status-document.js';
import { renderStatus } from './status-text.js';
import { orchestratorWorktrees } from './worktrees.js';
import { openWorkspace, readState, targetBranch } from './workspace.js';
import { safeJson, terminalSafe } from '../terminal-safe.js';

/**
 * `orchestrate status`: reads the state file and asks git about the worktrees; writes nothing and takes no
 * lock, so it is safe to run at any moment, including while a run is going on.
 */
export async function statusCommand(opts: StatusOptions, io: Io): Promise<number> {
  // Read-only questions and removals: no git command here needs a hook, the fsmonitor or a look inside submodules,
  // and a worktree (or a repository an agent nested in it) may name commands for each (git/client.ts).
  runGitWithoutHooks();
  const opened = await openWorkspace(opts, io);
  if (!opened.ok) return opened.code;
  const ws = opened.workspace;
  const read = await readState(ws, io);
  if (!read.ok) return read.code;
  const target = targetBranch(ws, read.state);
  const worktrees = await orchestratorWorktrees(ws, target);
  const doc = await buildStatusDocument(ws, read.state, target, worktrees);
  // Everything in it comes from files others can edit (the state, the lock, git's lock reasons): never raw controls.
  io.stdout(opts.json ? `${safeJson(doc, 2)}\n` : terminalSafe(renderStatus(doc)));
  return EXIT.ok;
}
