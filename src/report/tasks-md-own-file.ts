import { createRedactor } from '../agents/redact.js';
import type { OwnFile } from '../git/merge.js';
import type { RunState } from '../state/run-state.js';
import { BEGIN_MARKER, END_MARKER, renderTasksBlock, spliceBlock } from './tasks-md.js';

/** Any block: two texts that become equal once both carry it differ only inside (or by the presence of) the block. */
const PLACEHOLDER = `${BEGIN_MARKER}\n${END_MARKER}`;

/**
 * TASKS.md as a file the orchestrator edits in the user's working tree: its progress block is ours, everything
 * else is the user's (or a task's, once merged). `state` gives the block written again after the target advances;
 * `repoRoot` is where its links are relative to.
 */
export function tasksMdOwnFile(file: string, state: () => RunState, repoRoot: string): OwnFile {
  return {
    path: file,
    onlyOwnEdit: (current, committed) => spliceBlock(current, PLACEHOLDER) === spliceBlock(committed ?? '', PLACEHOLDER),
    // Redacted as writeTasksMd does: the block is the generated part that may quote a run's messages.
    reapply: (committed) => spliceBlock(committed ?? '', createRedactor(process.env)(renderTasksBlock(state(), repoRoot))),
  };
}
