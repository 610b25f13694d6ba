import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { gitQuery } from '../git/client.js';
import { ensureExcluded } from '../git/worktree.js';
import type { Logger } from '../report/logger.js';

export interface CopyFilesRequest {
  repoRoot: string;
  /** The repository's common git directory, whose info/exclude every worktree reads. */
  commonDir: string;
  worktree: string;
  /** `worktrees.copy_files`: repository-relative paths without ".." (checked at validation). */
  files: readonly string[];
  logger: Logger;
  /** Prefix of log lines, e.g. "[1A] ". */
  label: string;
}

/**
 * Copies `worktrees.copy_files` (an `.env`, say) from the main checkout into a new task worktree, without ever
 * reading or writing outside the repository, and keeps the copies out of every commit:
 * - a source whose real path is outside the repository (a committed symbolic link) is not copied, and neither is
 *   one whose destination folder leads out of the worktree;
 * - a copy git does not track is added to `.git/info/exclude` (local to the clone, shared by its worktrees), so
 *   neither the agent's `git add -A` nor the orchestrator's commit of leftovers stages it; a copy of a tracked
 *   file is marked `--skip-worktree` in the task worktree's own index, for the same reason.
 * Problems are logged as warnings (the task goes on without that file); nothing is thrown for them.
 */
export async function copyConfiguredFiles(req: CopyFilesRequest): Promise<void> {
  const realRoot = await realpath(req.repoRoot);
  const realWorktree = await realpath(req.worktree);
  const untracked: string[] = [];
  for (const file of req.files) {
    const from = path.resolve(req.repoRoot, file);
    if (!existsSync(from)) {
      req.logger.warn(`${req.label}worktrees.copy_files: ${file} does not exist in the repository; skipped`);
      continue;
    }
    const realFrom = await realpath(from);
    if (!isInside(realFrom, realRoot)) {
      req.logger.warn(`${req.label}worktrees.copy_files: ${file} leads outside the repository (to ${realFrom}); not copied`);
      continue;
    }
    const to = path.join(req.worktree, file);
    // Looked at before any folder is made: a task of an earlier stage may have committed a link where a folder of
    // the path is (conf -> /elsewhere), and mkdir -p through it made folders outside the worktree (measured).
    if (!(await foldersStayInside(req.worktree, path.dirname(to), realWorktree))) {
      req.logger.warn(`${req.label}worktrees.copy_files: the folder of ${file} leads outside the worktree; not copied`);
      continue;
    }
    await mkdir(path.dirname(to), { recursive: true });
    if (!isInside(await realpath(path.dirname(to)), realWorktree)) {
      req.logger.warn(`${req.label}worktrees.copy_files: the folder of ${file} leads outside the worktree; not copied`);
      continue;
    }
    // A link committed in the file's place: copyFile would write the file wherever it points.
    if ((await lstat(to).catch(() => undefined))?.isSymbolicLink()) {
      req.logger.warn(`${req.label}worktrees.copy_files: ${file} is a symbolic link in the worktree; not copied`);
      continue;
    }
    await copyFile(realFrom, to);
    const tracked = (await gitQuery(req.worktree, ['ls-files', '--error-unmatch', '--', file])) !== undefined;
    if (tracked) await gitQuery(req.worktree, ['update-index', '--skip-worktree', '--', file]);
    else untracked.push(file);
  }
  if (untracked.length > 0) await ensureExcluded(req.commonDir, untracked.map((f) => `/${f.split(path.sep).join('/').replace(/^\.\//, '')}`));
}

/**
 * Whether every folder of `folder` (absolute, below `worktree`) that exists is a folder inside the worktree once
 * links are followed; a link that leads nowhere counts as outside (mkdir would fail or follow it). Missing folders
 * end the walk: mkdir makes them, below one that is inside.
 */
async function foldersStayInside(worktree: string, folder: string, realWorktree: string): Promise<boolean> {
  let current = worktree;
  for (const part of path.relative(worktree, folder).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    const stat = await lstat(current).catch(() => undefined);
    if (stat === undefined) return true;
    if (stat.isSymbolicLink()) {
      const real = await realpath(current).catch(() => undefined);
      if (real === undefined || !isInside(real, realWorktree)) return false;
    } else if (!stat.isDirectory()) {
      return true; // mkdir fails on a file, as before
    }
  }
  return true;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
