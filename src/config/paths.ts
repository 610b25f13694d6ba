import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { error, type Diagnostic } from '../diagnostics.js';
import type { KeyPath, Position } from './source.js';
import type { Config } from './schema.js';

/** Where the configuration came from, so a problem can name the file and the key's line and column. */
export interface PathCheckContext {
  file?: string;
  locate(keyPath: KeyPath): Position | undefined;
}

/** The folders the orchestrator writes to or reads its plan from, by their key in the configuration. */
/** null: the default place outside the repository (a cache folder), which needs no check. */
const FOLDERS: ReadonlyArray<{ key: KeyPath; get: (c: Config) => string | null; does: string }> = [
  { key: ['milestones_dir'], get: (c) => c.milestones_dir, does: 'read the milestones from' },
  { key: ['state_dir'], get: (c) => c.state_dir, does: 'write the run state and lock to' },
  { key: ['worktrees', 'dir'], get: (c) => c.worktrees.dir, does: 'create task worktrees in' },
  { key: ['logging', 'log_dir'], get: (c) => c.logging.log_dir, does: 'write logs and transcripts to' },
];

/**
 * Checks the configured folders against the repository on disk (the schema cannot: it has no repository):
 * - `worktrees.dir` must not be the repository root or a folder containing it (worktrees would be created over
 *   the main checkout, and the target could never advance);
 * - a folder configured inside the repository must really be there: a committed symbolic link (`.worktree ->
 *   /elsewhere`, `milestones -> ../../other`) would make the orchestrator write or read outside the repository
 *   while `status` and `clean` look inside. A folder configured outside on purpose (an absolute path, `../x`) is
 *   fine: it is used as configured, by the run, `status` and `clean` alike.
 * Returns one error per problem, at the key's line and column when the file sets it.
 */
export function checkConfiguredFolders(config: Config, repoRoot: string, ctx: PathCheckContext): Diagnostic[] {
  const root = path.resolve(repoRoot);
  const realRoot = realOrSelf(root);
  const out: Diagnostic[] = [];
  const at = (key: KeyPath) => ({ ...(ctx.file !== undefined ? { file: ctx.file } : {}), ...(ctx.locate(key) ?? {}) });

  const worktrees = config.worktrees.dir === null ? undefined : path.resolve(root, config.worktrees.dir);
  if (worktrees !== undefined && (isInside(root, worktrees) || isInside(realRoot, realOrSelf(worktrees)))) {
    const what = worktrees === root || realOrSelf(worktrees) === realRoot ? 'is the repository root' : 'contains the repository';
    out.push(
      error('config-invalid', `worktrees.dir: "${config.worktrees.dir}" ${what}; task worktrees need a folder of their own`, {
        ...at(['worktrees', 'dir']),
        hint: 'leave it unset (the default: a folder outside the repository), or name a folder of its own such as ".worktree" or "../worktrees"',
      }),
    );
  }

  // Inside node_modules: an install in the main checkout deletes the worktrees, and the copy of node_modules each
  // worktree gets (worktrees.provision) would have to contain the worktrees themselves.
  if (worktrees !== undefined && isInside(worktrees, path.join(root, 'node_modules'))) {
    out.push(
      error('config-invalid', `worktrees.dir: "${config.worktrees.dir}" is inside node_modules: an install (npm ci) in the main checkout would delete the worktrees, and each worktree's copy of node_modules would contain them`, {
        ...at(['worktrees', 'dir']),
        hint: 'leave it unset (the default: a folder outside the repository), or name a folder such as ".worktree" or "../worktrees"',
      }),
    );
  }

  // Inside the repository's own `.git`: git's administrative files, and write-protected for sandboxed agents.
  const gitDir = path.join(root, '.git');
  if (worktrees !== undefined && isInside(worktrees, gitDir)) {
    out.push(
      error('config-invalid', `worktrees.dir: "${config.worktrees.dir}" is inside the repository's .git folder (git's own files; sandboxed agents cannot write there)`, {
        ...at(['worktrees', 'dir']),
        hint: 'use a folder inside the repository such as ".worktree", or one outside it such as "../worktrees"',
      }),
    );
  }

  for (const folder of FOLDERS) {
    const value = folder.get(config);
    if (value === null) continue;
    const resolved = path.resolve(root, value);
    // The milestones folder and the state folder have their own messages when they are files (their loaders').
    const clash = folder.key[0] === 'worktrees' || folder.key[0] === 'logging' ? notAFolder(root, resolved) : undefined;
    if (clash) {
      const name = folder.key.join('.');
      out.push(
        error('config-invalid', `${name}: "${value}" ${clash}: the orchestrator would ${folder.does} it`, {
          ...at(folder.key),
          hint: `name a folder (created when missing), e.g. ${JSON.stringify(EXAMPLE_FOLDER[name] ?? `.${folder.key.at(-1)}`)}; nothing of yours is changed`,
        }),
      );
      continue;
    }
    if (!isInside(resolved, root) || resolved === root) continue; // configured outside on purpose, or the root itself
    const link = linkOut(root, realRoot, resolved);
    if (!link) continue;
    const name = folder.key.join('.');
    out.push(
      error('config-path-outside', `${name}: "${value}" is inside the repository, but ${link.at} is a link to ${link.to}, outside it: the orchestrator would ${folder.does} there`, {
        ...at(folder.key),
        hint: `remove the link (rm ${link.at}), or, if that is where you want it, set ${name} to "${link.to}"`,
      }),
    );
  }
  return out;
}

/** A folder name to suggest for each key, as in the README. */
const EXAMPLE_FOLDER: Readonly<Record<string, string>> = { 'worktrees.dir': '.worktree', 'logging.log_dir': 'logs' };

/**
 * Why a configured folder cannot be one, or undefined: it exists and is a file (`worktrees.dir: "TASKS.md"`), or
 * it is TASKS.md, where the orchestrator writes its progress (a folder there would hide the file). Follows links.
 */
function notAFolder(root: string, resolved: string): string | undefined {
  if (resolved === path.join(root, 'TASKS.md')) return 'is TASKS.md, the file the orchestrator writes its progress to';
  try {
    return statSync(resolved).isDirectory() ? undefined : 'is a file, not a folder';
  } catch {
    return undefined; // missing: created when needed
  }
}

/**
 * The first path component between `root` and `target` whose real location is outside the repository, if any
 * (components that do not exist yet cannot be links and end the walk).
 */
function linkOut(root: string, realRoot: string, target: string): { at: string; to: string } | undefined {
  const parts = path.relative(root, target).split(path.sep);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    if (!existsSync(current)) return undefined;
    const real = realOrSelf(current);
    if (!isInside(real, realRoot)) return { at: path.relative(root, current).split(path.sep).join('/'), to: real };
  }
  return undefined;
}

/** True when `child` is `parent` or below it. */
export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
