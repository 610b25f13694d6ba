import { gitQuery, gitRaw } from './client.js';

/**
 * Commits everything left uncommitted in a worktree. Returns the new commit, or undefined when there was
 * nothing to commit. Uses a fallback identity only when the repository has none, so users' own identity wins.
 */
export async function commitAll(cwd: string, message: string): Promise<string | undefined> {
  await gitRaw(cwd, ['add', '-A']);
  const staged = await gitQuery(cwd, ['diff', '--cached', '--quiet']);
  if (staged !== undefined) return undefined; // exit 0: nothing staged
  await gitRaw(cwd, [...(await identityArgs(cwd)), 'commit', '--no-verify', '-q', '-m', message]);
  return gitRaw(cwd, ['rev-parse', 'HEAD']);
}

export async function identityArgs(cwd: string): Promise<string[]> {
  const email = await gitQuery(cwd, ['config', 'user.email']);
  const name = await gitQuery(cwd, ['config', 'user.name']);
  const args: string[] = [];
  if (!name) args.push('-c', 'user.name=milestone-orchestrator');
  if (!email) args.push('-c', 'user.email=orchestrator@localhost');
  return args;
}
