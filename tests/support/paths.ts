import path from 'node:path';
import { defaultConfig } from '../../src/config/schema.js';
import { runPaths, type RunPaths } from '../../src/run/context.js';

/**
 * Where a run in `root` with the default configuration puts things (worktrees and logs outside the repository, in
 * the tests' own XDG_CACHE_HOME): taken from the product's own definition, never restated in tests.
 */
export function defaultPaths(root: string): RunPaths {
  return runPaths(root, defaultConfig(), 'test', process.env);
}

/** The worktree of task `id` in `root`, with the default configuration. */
export function taskWorktree(root: string, id: string): string {
  return path.join(defaultPaths(root).worktreeDir, id);
}
