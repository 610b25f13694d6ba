import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { gitQuery, NO_HOOKS_PATH } from './client.js';
import { commonGitDir } from './layout.js';

/**
 * The configuration a commit or merge made on an agent's behalf depends on, read with one git process
 * (`git config --get-regexp`) instead of one per key, and reused across the worktrees of a repository while no
 * configuration file has changed: a task's commit and its stage's merge would otherwise ask again in every worktree.
 */
export interface CommitConfig {
  /** `-c user.name=… -c user.email=…` for what the repository's configuration lacks; empty when it has both. */
  identityArgs: string[];
  /**
   * `core.hooksPath` as configured (undefined: not set, hooks are in `<common dir>/hooks`). Relative paths are
   * relative to the worktree a hook runs in.
   */
  hooksPath: string | undefined;
}

const KEYS = /^(user\.name|user\.email|core\.hookspath|extensions\.worktreeconfig|include\..+|includeif\..+)$/;
const QUERY = ['config', '--null', '--get-regexp', '^(user\\.name|user\\.email|core\\.hookspath|extensions\\.worktreeconfig|include\\..+|includeif\\..+)$'];

interface Cached {
  /** Modification times of the configuration files git reads, when the answer was read. */
  stamp: string;
  config: CommitConfig;
}

/** By common git directory: one entry per repository. */
const cache = new Map<string, Cached>();

/**
 * The commit configuration for the worktree whose top level is `cwd`. Shared by every worktree of one repository
 * unless the answer could differ between them: per-worktree configuration (`extensions.worktreeConfig`) or any
 * `include`/`includeIf` (conditions on the git dir or branch, or files not watched here) make it per worktree and
 * uncached, exactly as git answers in each. A change to a configuration file (a set-up command running `husky`
 * sets core.hooksPath) is seen at the next call. Throws only when git cannot be started.
 */
export async function commitConfig(cwd: string): Promise<CommitConfig> {
  const common = commonGitDir(cwd);
  const stamp = common === undefined ? undefined : configStamp(common);
  const known = common === undefined ? undefined : cache.get(common);
  if (known && known.stamp === stamp) return known.config;
  const read = await readCommitConfig(cwd);
  if (common !== undefined && stamp !== undefined && read.shareable) cache.set(common, { stamp, config: read.config });
  return read.config;
}

async function readCommitConfig(cwd: string): Promise<{ config: CommitConfig; shareable: boolean }> {
  const out = (await gitQuery(cwd, QUERY)) ?? ''; // exit 1: none of the keys is set
  const values = new Map<string, string>();
  let shareable = true;
  for (const entry of out.split('\0')) {
    const newline = entry.indexOf('\n');
    const key = (newline < 0 ? entry : entry.slice(0, newline)).trim().toLowerCase();
    if (!KEYS.test(key)) continue;
    if (key === 'extensions.worktreeconfig' || key.startsWith('include')) shareable = false;
    const value = newline < 0 ? '' : entry.slice(newline + 1);
    // The orchestrator's own "no hooks outside the sandbox" (client.ts), not the repository's setting.
    if (key === 'core.hookspath' && value === NO_HOOKS_PATH) continue;
    values.set(key, value); // the last one set wins, as in git
  }
  const identityArgs: string[] = [];
  if (!values.get('user.name')) identityArgs.push('-c', 'user.name=milestone-orchestrator');
  if (!values.get('user.email')) identityArgs.push('-c', 'user.email=orchestrator@localhost');
  const hooksPath = values.get('core.hookspath');
  return { config: { identityArgs, hooksPath: hooksPath === undefined || hooksPath === '' ? undefined : hooksPath }, shareable };
}

/** Modification times of the configuration files git reads for this repository (system, global, repository). */
function configStamp(common: string): string {
  const env = process.env;
  const home = env.HOME ?? homedir();
  const files = [
    path.join(common, 'config'),
    env.GIT_CONFIG_GLOBAL ?? path.join(home, '.gitconfig'),
    path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'git', 'config'),
    env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig',
  ];
  const envConfig = Object.keys(env)
    .filter((k) => k.startsWith('GIT_CONFIG'))
    .sort()
    .map((k) => `${k}=${env[k]}`);
  return [...files.map((f) => `${f}@${mtime(f)}`), ...envConfig].join('\n');
}

function mtime(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.mtimeNs}:${s.size}:${s.ino}`;
  } catch {
    return '-';
  }
}
