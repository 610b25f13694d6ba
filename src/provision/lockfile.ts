import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Lockfiles that pin a `node_modules` tree, most specific first. */
export const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb'] as const;

/** What an installer leaves in `node_modules` once it has installed from the lockfile. */
const INSTALL_MARKERS: Record<(typeof LOCKFILES)[number], string> = {
  'npm-shrinkwrap.json': '.package-lock.json',
  'package-lock.json': '.package-lock.json',
  'pnpm-lock.yaml': '.modules.yaml',
  'yarn.lock': '.yarn-integrity',
  'bun.lock': '.',
  'bun.lockb': '.',
};

export interface LockfileState {
  /** Lockfile name -> sha256 of its content, for each one present. */
  hashes: Map<string, string>;
}

export async function readLockfiles(dir: string): Promise<LockfileState> {
  const hashes = new Map<string, string>();
  for (const name of LOCKFILES) {
    const file = path.join(dir, name);
    if (!existsSync(file)) continue;
    hashes.set(name, createHash('sha256').update(await readFile(file)).digest('hex'));
  }
  return { hashes };
}

/** Why two checkouts' lockfiles do not pin the same dependencies, or undefined when they do. */
export function compareLockfiles(main: LockfileState, worktree: LockfileState): string | undefined {
  if (main.hashes.size === 0) return 'the main checkout has no lockfile (package-lock.json, yarn.lock, pnpm-lock.yaml, …)';
  const names = new Set([...main.hashes.keys(), ...worktree.hashes.keys()]);
  for (const name of names) {
    const a = main.hashes.get(name);
    const b = worktree.hashes.get(name);
    if (a === undefined) return `${name} exists in the worktree but not in the main checkout`;
    if (b === undefined) return `${name} exists in the main checkout but not in the worktree`;
    if (a !== b) return `${name} differs from the main checkout's`;
  }
  return undefined;
}

/**
 * Whether the main checkout's `node_modules` was installed from its current lockfile, or why not.
 *
 * For npm the hidden lockfile `node_modules/.package-lock.json` (written by npm >= 7 on every install) is compared
 * with the lockfile entry by entry: every installed package must be in the lockfile at the same version, and every
 * package of the lockfile must be installed unless it is optional (platform-specific binaries). An install with
 * `--omit=dev` therefore counts as stale: a task's checks usually need the dev dependencies. For the other package
 * managers the installer's marker file must be newer than the lockfile (a conservative test: a checkout that only
 * touched the lockfile also fails it, which costs a regular install, nothing worse).
 */
export async function installedFromLockfile(repoRoot: string, lockfile: string): Promise<string | undefined> {
  const marker = INSTALL_MARKERS[lockfile as (typeof LOCKFILES)[number]] ?? '.';
  const markerPath = path.join(repoRoot, 'node_modules', marker);
  if (!existsSync(markerPath)) return `node_modules has no ${marker} (not installed by a current ${installerOf(lockfile)}), so it cannot be matched to ${lockfile}`;
  if (lockfile === 'package-lock.json' || lockfile === 'npm-shrinkwrap.json') {
    return compareHiddenLockfile(path.join(repoRoot, lockfile), markerPath);
  }
  const [lock, installed] = await Promise.all([stat(path.join(repoRoot, lockfile)), stat(markerPath)]);
  return installed.mtimeMs >= lock.mtimeMs ? undefined : `${lockfile} changed after node_modules was installed`;
}

interface NpmEntry {
  version?: string;
  resolved?: string;
  link?: boolean;
  optional?: boolean;
  devOptional?: boolean;
}

async function compareHiddenLockfile(lockPath: string, hiddenPath: string): Promise<string | undefined> {
  let lock: Record<string, NpmEntry>;
  let hidden: Record<string, NpmEntry>;
  try {
    lock = packagesOf(JSON.parse(await readFile(lockPath, 'utf8')));
    hidden = packagesOf(JSON.parse(await readFile(hiddenPath, 'utf8')));
  } catch (err) {
    return `cannot read the lockfiles: ${(err as Error).message}`;
  }
  const nested = Object.keys(hidden).find((key) => !key.startsWith('node_modules/') && key.includes('/node_modules/'));
  if (nested) return `packages are installed outside the root node_modules (${nested}): only the root one is linked`;
  for (const [key, entry] of Object.entries(hidden)) {
    if (key === '') continue;
    const wanted = lock[key];
    if (!wanted) return `node_modules holds ${key}, which package-lock.json does not list (run npm ci in the main checkout)`;
    if (!sameEntry(wanted, entry)) return `node_modules holds ${key}@${entry.version ?? '?'}, package-lock.json wants ${wanted.version ?? '?'} (run npm ci in the main checkout)`;
  }
  for (const [key, entry] of Object.entries(lock)) {
    if (key === '' || !key.includes('node_modules/') || hidden[key] || entry.optional || entry.devOptional) continue;
    return `node_modules lacks ${key} from package-lock.json (installed with --omit? run npm ci in the main checkout)`;
  }
  return undefined;
}

function packagesOf(doc: unknown): Record<string, NpmEntry> {
  const packages = (doc as { packages?: unknown }).packages;
  if (typeof packages !== 'object' || packages === null) throw new Error('no "packages" section (lockfileVersion < 2)');
  return packages as Record<string, NpmEntry>;
}

function sameEntry(a: NpmEntry, b: NpmEntry): boolean {
  if (a.link || b.link) return a.link === b.link && a.resolved === b.resolved;
  return a.version === b.version;
}

function installerOf(lockfile: string): string {
  if (lockfile.startsWith('pnpm')) return 'pnpm';
  if (lockfile.startsWith('yarn')) return 'yarn';
  if (lockfile.startsWith('bun')) return 'bun';
  return 'npm (>= 7)';
}
