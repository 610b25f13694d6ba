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

/**
 * Read once per working tree (two git processes each time add up: a task commits and merges several times).
 * Identity does not change during a run.
 */
const identities = new Map<string, Promise<string[]>>();

export function identityArgs(cwd: string): Promise<string[]> {
  let known = identities.get(cwd);
  if (!known) {
    known = readIdentityArgs(cwd);
    identities.set(cwd, known);
  }
  return known;
}

async function readIdentityArgs(cwd: string): Promise<string[]> {
  const [email, name] = await Promise.all([gitQuery(cwd, ['config', 'user.email']), gitQuery(cwd, ['config', 'user.name'])]);
  const args: string[] = [];
  if (!name) args.push('-c', 'user.name=milestone-orchestrator');
  if (!email) args.push('-c', 'user.email=orchestrator@localhost');
  return args;
}
