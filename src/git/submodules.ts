import { existsSync } from 'node:fs';
import path from 'node:path';
import { GitCommandError, gitQuery, gitRaw } from './client.js';

export interface SubmoduleProblem {
  /** The submodule's name in .gitmodules. */
  name: string;
  /** Its path from the task worktree's root (nested ones include their parents' paths), forward slashes. */
  path: string;
  /** What git said. */
  message: string;
}

export interface SubmodulesResult {
  /** Paths (from the worktree root) initialised from the main checkout's own clones, without network. */
  local: string[];
  /** Paths fetched from their configured URL, because the main checkout did not have the recorded commit. */
  fetched: string[];
  problem?: SubmoduleProblem;
}

/**
 * Initialises the submodules of a new worktree, recursively, the way `git submodule update --init --recursive`
 * would, but from the main checkout's clones of them where those have the recorded commit: a local clone needs no
 * network and costs little (git hard-links the objects). A submodule the main checkout has not got (or has not got
 * that commit of) is fetched from its configured URL. The clones' `origin` is set back to the real URL, so a later
 * fetch in the worktree goes where it would from the main checkout.
 *
 * `worktree` is the new task worktree, `mainRoot` the main checkout. Nothing in the main checkout is changed: the
 * URL override is given on the command line, never written to the shared config. Returns the first failure,
 * naming the submodule; a worktree without `.gitmodules` gives an empty result.
 */
export async function initSubmodules(worktree: string, mainRoot: string): Promise<SubmodulesResult> {
  const result: SubmodulesResult = { local: [], fetched: [] };
  await initLevel(worktree, mainRoot, '', 0, result);
  return result;
}

interface Submodule {
  name: string;
  path: string;
  /** The commit the superproject records (its gitlink). */
  sha: string;
}

async function initLevel(dir: string, source: string | undefined, prefix: string, depth: number, out: SubmodulesResult): Promise<void> {
  for (const sub of await listSubmodules(dir)) {
    if (out.problem) return;
    const shown = `${prefix}${sub.path}`;
    const from = source === undefined ? undefined : path.join(source, sub.path);
    const local = from !== undefined && (await hasCommit(from, sub.sha));
    try {
      if (local) {
        await updateFrom(dir, sub, from);
        await pointOriginAtRealUrl(dir, sub, from, depth);
        out.local.push(shown);
      } else {
        const untrusted = depth === 0 ? await untrustedUrl(dir, sub) : undefined;
        if (untrusted !== undefined) {
          out.problem = { name: sub.name, path: shown, message: untrusted };
          return;
        }
        await gitRaw(dir, ['submodule', 'update', '--init', '--', sub.path]);
        out.fetched.push(shown);
      }
    } catch (err) {
      out.problem = { name: sub.name, path: shown, message: err instanceof GitCommandError ? err.stderr.trim() || err.message : (err as Error).message };
      return;
    }
    // The main checkout's clone may still have the nested submodules' commits, even when it lacked this one's.
    await initLevel(path.join(dir, sub.path), from, `${shown}/`, depth + 1, out);
  }
}

/**
 * Why a top-level submodule the main checkout has not got must not be fetched, or undefined when it may be.
 * `git submodule update --init` fetches from `submodule.<name>.url` in the repository's config, which the worktree
 * shares with the main checkout; a submodule never initialised there has none, and git would take (and write into
 * the user's config) the URL of the worktree's `.gitmodules`, a file a task of an earlier stage may have written:
 * a request, as the user and with their credentials, to an address an agent chose (a tester sent the user's name to
 * a local server that way). So only a URL the user's own checkout already uses is fetched.
 */
async function untrustedUrl(worktree: string, sub: Submodule): Promise<string | undefined> {
  if ((await gitQuery(worktree, ['config', '--get', `submodule.${sub.name}.url`])) !== undefined) return undefined;
  const url = await gitQuery(worktree, ['config', '--file', '.gitmodules', `submodule.${sub.name}.url`]);
  return (
    `not initialised in your checkout, so its URL (${url ?? 'none'}) comes only from .gitmodules, which a task may have ` +
    `written; it is not fetched. If you trust it, run \`git submodule update --init -- ${sub.path}\` in your checkout, then orchestrate --resume`
  );
}

/** Submodules named in `.gitmodules` that the checked-out commit has a gitlink for, in .gitmodules order. */
async function listSubmodules(dir: string): Promise<Submodule[]> {
  if (!existsSync(path.join(dir, '.gitmodules'))) return [];
  const paths = await gitQuery(dir, ['config', '--file', '.gitmodules', '--null', '--get-regexp', '^submodule\\..*\\.path$']);
  if (!paths) return [];
  const subs: Submodule[] = [];
  for (const record of paths.split('\0').filter(Boolean)) {
    const newline = record.indexOf('\n');
    const key = record.slice(0, newline);
    const subPath = record.slice(newline + 1);
    const name = key.slice('submodule.'.length, -'.path'.length);
    const entry = await gitQuery(dir, ['ls-tree', 'HEAD', '--', subPath]);
    const match = /^160000 commit ([0-9a-f]+)\t/.exec(entry ?? '');
    if (match?.[1]) subs.push({ name, path: subPath, sha: match[1] });
  }
  return subs;
}

async function hasCommit(repo: string, sha: string): Promise<boolean> {
  if (!existsSync(path.join(repo, '.git'))) return false;
  // The source must be a repository of its own (not the superproject seen from an empty folder).
  const top = await gitQuery(repo, ['rev-parse', '--show-toplevel']);
  if (top === undefined || path.resolve(top) !== path.resolve(repo)) return false;
  return (await gitQuery(repo, ['cat-file', '-e', `${sha}^{commit}`])) !== undefined;
}

/**
 * A local clone: the URL is overridden on the command line only, and the file protocol (which git refuses for
 * submodules by default since 2.38.1) is allowed for this one command, whose source is the user's own checkout.
 */
async function updateFrom(dir: string, sub: Submodule, from: string): Promise<void> {
  await gitRaw(dir, ['-c', 'protocol.file.allow=always', '-c', `submodule.${sub.name}.url=${from}`, 'submodule', 'update', '--init', '--', sub.path]);
}

/**
 * The new clone's origin is the main checkout's folder: point it at the URL the main checkout's clone uses. A
 * nested level's config belongs to the new clone (never the user's), so it also records the submodule as
 * initialised there, which `git submodule status --recursive` in the worktree reads.
 */
async function pointOriginAtRealUrl(dir: string, sub: Submodule, from: string, depth: number): Promise<void> {
  const real = await gitQuery(from, ['remote', 'get-url', 'origin']);
  if (real) await gitRaw(path.join(dir, sub.path), ['remote', 'set-url', 'origin', real]);
  if (depth > 0 && real) {
    await gitRaw(dir, ['config', `submodule.${sub.name}.url`, real]);
    await gitRaw(dir, ['config', `submodule.${sub.name}.active`, 'true']);
  }
}
