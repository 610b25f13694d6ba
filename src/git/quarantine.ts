import { copyFile, cp, link, mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gitRaw } from './client.js';

/**
 * A commit hook run inside the sandbox sees the repository's `.git` read-only, yet a hook may stage files
 * (`git add` after a formatter, as lint-staged does), which writes the index and new objects. So, as git itself does
 * for a pre-receive hook, the hook works on a quarantine: a copy of the worktree's index (`GIT_INDEX_FILE`) and an
 * object folder of its own (`GIT_OBJECT_DIRECTORY`) that sees the real objects as alternates. After a hook that
 * succeeded, the orchestrator (outside the sandbox) moves the new objects in — never replacing one — and installs the
 * new index under git's own `index.lock`.
 *
 * Some hooks also write refs and git's per-worktree files: lint-staged keeps a backup stash (`refs/stash`, its
 * reflog) and patch files in the worktree's git folder, and fails without them (measured with lint-staged 15: "failed
 * due to a git error"). Those get throw-away copies the sandbox mounts over the real ones (`overlays`): the hook
 * sees its writes succeed, nothing of them is taken over. Config, hooks, the real refs and other worktrees stay out of
 * reach.
 */
export interface Quarantine {
  /** The variables the hook runs with. */
  env: Record<'GIT_INDEX_FILE' | 'GIT_OBJECT_DIRECTORY' | 'GIT_ALTERNATE_OBJECT_DIRECTORIES', string>;
  /** Writable copies to mount over read-only paths inside the sandbox (`src` = the copy, `path` = the real one). */
  overlays: { src: string; path: string }[];
  /** The folder that holds the copies: the sandbox makes it writable. */
  dir: string;
  index: string;
  objects: string;
}

/** Sets up a quarantine for a hook in `cwd` under `dir` (an empty scratch folder of the caller's). */
export async function openQuarantine(cwd: string, dir: string): Promise<Quarantine> {
  const [index, objects, gitDir, commonDir] = (await gitRaw(cwd, ['rev-parse', '--git-path', 'index', '--git-path', 'objects', '--git-dir', '--git-common-dir']))
    .split('\n')
    .map((p) => path.resolve(cwd, p.trim()));
  const scratchIndex = path.join(dir, 'index');
  const scratchObjects = path.join(dir, 'objects');
  await mkdir(scratchObjects, { recursive: true });
  await copyFile(index!, scratchIndex).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err; // no index yet: git makes one
  });
  const overlays: Quarantine['overlays'] = [];
  // A linked worktree's own git folder, then the shared refs and reflogs; the main worktree's git folder is the
  // shared one, which is never copied whole.
  const copies = [...(gitDir !== commonDir ? [gitDir!] : []), path.join(commonDir!, 'refs'), path.join(commonDir!, 'logs')];
  for (const [i, real] of copies.entries()) {
    if (!(await stat(real).then((s) => s.isDirectory(), () => false))) continue;
    const copy = path.join(dir, 'overlay', `${i}-${path.basename(real)}`);
    await cp(real, copy, { recursive: true, verbatimSymlinks: true });
    overlays.push({ src: copy, path: real });
  }
  return {
    env: { GIT_INDEX_FILE: scratchIndex, GIT_OBJECT_DIRECTORY: scratchObjects, GIT_ALTERNATE_OBJECT_DIRECTORIES: objects! },
    overlays,
    dir,
    index: index!,
    objects: objects!,
  };
}

/**
 * After a hook that succeeded: the objects it wrote join the repository's (loose objects and packs; an object
 * already there is kept as it is), then its index replaces the worktree's if it differs. Throws when git's index
 * lock is held by someone else (`index.lock` exists), as git would.
 */
export async function closeQuarantine(q: Quarantine): Promise<void> {
  await moveObjects(q.env.GIT_OBJECT_DIRECTORY, q.objects);
  const next = await readFile(q.env.GIT_INDEX_FILE).catch(() => undefined);
  const current = await readFile(q.index).catch(() => undefined);
  if (next === undefined || (current !== undefined && next.equals(current))) return;
  const lock = `${q.index}.lock`;
  await writeFile(lock, next, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'EEXIST' ? `cannot update the index after the hook: ${lock} exists (another git process is running in ${path.dirname(q.index)}, or one crashed: remove the file)` : err.message);
  });
  await rename(lock, q.index);
}

async function moveObjects(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = entry.name;
    // Loose objects live in two-hex-digit folders; packs in pack/ (.pack before .idx: git trusts a pack once its
    // index exists). info/ (alternates, packs list) is never taken.
    if (!/^[0-9a-f]{2}$/.test(sub) && sub !== 'pack') continue;
    const names = (await readdir(path.join(from, sub))).sort((a, b) => rank(a) - rank(b));
    if (names.length === 0) continue;
    await mkdir(path.join(to, sub), { recursive: true });
    for (const name of names) {
      if (sub === 'pack' ? !/^pack-[0-9a-f]+\.(pack|idx|rev)$/.test(name) : !/^[0-9a-f]{38,62}$/.test(name)) continue;
      await addFile(path.join(from, sub, name), path.join(to, sub, name));
    }
  }
}

function rank(name: string): number {
  return name.endsWith('.idx') ? 1 : 0;
}

/** Copies `src` to `dst` unless `dst` exists: through a temp name and a hard link, so `dst` is never half-written. */
async function addFile(src: string, dst: string): Promise<void> {
  const tmp = `${dst}.mo-${process.pid}.tmp`;
  await copyFile(src, tmp);
  try {
    await link(tmp, dst);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Drops a quarantine's copies (after a hook that failed: its staging is not kept, the commit is not made). */
export async function discardQuarantine(q: Quarantine): Promise<void> {
  await rm(q.dir, { recursive: true, force: true });
}
