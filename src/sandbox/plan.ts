import path from 'node:path';
import { expandHome } from '../agents/claude/sandbox.js';

/**
 * The sandbox for the commands the orchestrator itself runs on agent-written code: configured checks (front matter
 * `checks`, `checks.commands`) and the repository's commit hooks. Claude Code's sandbox confines the agent's own
 * shell; these run the files the agent wrote (`npm test` runs its `package.json` and test files), so they get the
 * same confinement from bubblewrap directly:
 * - the whole file system read-only (toolchains under HOME — nvm, ~/.cargo — stay readable and runnable);
 * - writable: the working directory (the task's worktree) and the few extra paths the caller names;
 * - inside a writable folder, its `.git` file or folder, `.claude` and `.mcp.json` (Claude Code's project settings
 *   and MCP servers, whose hooks and server commands would run unsandboxed in the next agent session) stay
 *   read-only;
 * - a private, empty `/tmp` (what is under the real /tmp and must stay visible, such as HOME, the repository's
 *   `.git` or a toolchain on PATH, is put back read-only);
 * - `deny_read` hidden (an empty folder, or /dev/null for a file), `deny_env` removed from the environment;
 * - no network but the sandbox's own loopback (`--unshare-net`); own pid namespace; no capabilities (as root,
 *   bubblewrap keeps them unless told otherwise, and CAP_SYS_ADMIN could unmount the read-only binds).
 *
 * This module is pure: it decides the mounts from facts gathered by `command.ts`, and renders bwrap's arguments.
 */

/** Run-wide settings, built once from `agent.sandbox` (see `cli/start-run.ts`); paths absolute. */
export interface CommandSandbox {
  /** bubblewrap's absolute path. */
  bwrap: string;
  /** Files and folders hidden from the command (`agent.sandbox.deny_read`, `~` expanded). */
  denyRead: readonly string[];
  /** Environment variables removed (`agent.sandbox.deny_env`). */
  denyEnv: readonly string[];
  /** Read-only paths a command needs even when they are under /tmp: HOME, the repository's shared `.git`. */
  keepVisible: readonly string[];
  /** `host`: the command keeps the network (set-up commands, with `agent.sandbox.setup`). Default: none. */
  network?: 'none' | 'host';
}

/** What exists on disk, for the planner: absolute path → its kind; a path missing from the map does not exist. */
export type PathKinds = ReadonlyMap<string, 'file' | 'dir'>;

export interface CommandPlanInput {
  sandbox: Pick<CommandSandbox, 'denyRead' | 'keepVisible' | 'network'>;
  /** The command's working directory; always writable. */
  cwd: string;
  /** More writable folders (e.g. a hook's scratch folder with its message file). */
  writable?: readonly string[];
  /** More read-only paths to keep visible under /tmp (PATH entries, node's own folder). */
  keepVisible?: readonly string[];
  /** Writable copies mounted over read-only paths (`src` over `path`), e.g. a hook's throw-away refs. */
  overlays?: readonly { src: string; path: string }[];
  kinds: PathKinds;
}

export type Mount =
  | { op: 'ro-bind'; path: string }
  | { op: 'bind'; path: string }
  /** `src` mounted writable at `path`. */
  | { op: 'bind-at'; src: string; path: string }
  | { op: 'tmpfs'; path: string }
  /** A tmpfs made read-only after it is mounted: an empty, unwritable folder. */
  | { op: 'empty-dir'; path: string }
  /** /dev/null bound over a file: it reads as empty. */
  | { op: 'null-file'; path: string };

export interface CommandPlan {
  mounts: Mount[];
  cwd: string;
  network: 'none' | 'host';
  /**
   * Folders the sandbox creates in a writable folder as mount points (a missing `.claude` or `.mcp.json`): the caller removes
   * them afterwards if they are still empty.
   */
  createdMountPoints: string[];
}

const PRIVATE_TMP = '/tmp';
/**
 * Never made writable from inside: git's files, and what Claude Code loads from a project and runs outside its
 * sandbox in the next agent session in this worktree (the reviewer's, a resumed worker's): `.claude` (settings with
 * hooks) and `.mcp.json` (project MCP servers: commands Claude Code starts as the user, measured with 2.1.330 in a
 * headless reviewer session: a `.mcp.json` a check wrote ran its server outside every sandbox).
 */
export const PROTECTED_NAMES = ['.git', '.claude', '.mcp.json'];

/** Pure: the mounts for one command, in the order bwrap must apply them (later mounts cover earlier ones). */
export function planCommandSandbox(input: CommandPlanInput): CommandPlan {
  const writable = unique([input.cwd, ...(input.writable ?? [])]);
  const mounts: Mount[] = [{ op: 'ro-bind', path: '/' }];
  mounts.push({ op: 'tmpfs', path: PRIVATE_TMP });
  // Put back, read-only, what lives under /tmp and is needed; outermost first so an inner one is not covered.
  const visible = unique([...input.sandbox.keepVisible, ...(input.keepVisible ?? [])])
    .filter((p) => isInside(p, PRIVATE_TMP) && p !== PRIVATE_TMP && input.kinds.has(p))
    .filter((p, _i, all) => !all.some((q) => q !== p && isInside(p, q)))
    .sort(byDepth);
  for (const p of visible) mounts.push({ op: 'ro-bind', path: p });
  const createdMountPoints: string[] = [];
  for (const w of [...writable].sort(byDepth)) {
    mounts.push({ op: 'bind', path: w });
    for (const name of PROTECTED_NAMES) {
      const p = path.join(w, name);
      const kind = input.kinds.get(p);
      if (kind !== undefined) mounts.push({ op: 'ro-bind', path: p });
      else if (name !== '.git') {
        // Missing: an empty read-only folder, so nothing can create the settings or MCP file Claude Code would load
        // (a folder named `.mcp.json` cannot be written as a file; git ignores an empty folder).
        mounts.push({ op: 'empty-dir', path: p });
        createdMountPoints.push(p);
      }
    }
  }
  for (const o of input.overlays ?? []) mounts.push({ op: 'bind-at', src: path.resolve(o.src), path: path.resolve(o.path) });
  // Last, so no bind above can uncover them.
  for (const p of unique(input.sandbox.denyRead)) {
    const kind = input.kinds.get(p);
    if (kind === 'dir') mounts.push({ op: 'empty-dir', path: p });
    else if (kind === 'file') mounts.push({ op: 'null-file', path: p });
    // Missing: nothing to read, and its parent is read-only (HOME), so nothing can appear there either.
  }
  return { mounts, cwd: input.cwd, network: input.sandbox.network ?? 'none', createdMountPoints };
}

/**
 * Pure: bwrap's argument list for a plan and a command (`argv`, run with the working directory and environment
 * changes given). Namespaces: network (loopback only; kept with `network: 'host'`), pid, ipc, uts; capabilities
 * dropped; the command dies with the orchestrator's child (bwrap) so a timeout's kill of the process group reaches
 * everything inside.
 */
export function bwrapArgs(plan: CommandPlan, argv: readonly string[], env: { unset: readonly string[]; set: Readonly<Record<string, string>> }): string[] {
  const args: string[] = ['--die-with-parent', ...(plan.network === 'host' ? [] : ['--unshare-net']), '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--cap-drop', 'ALL'];
  for (const m of plan.mounts) {
    switch (m.op) {
      case 'ro-bind':
        args.push('--ro-bind', m.path, m.path);
        if (m.path === '/') args.push('--dev', '/dev', '--proc', '/proc');
        break;
      case 'bind':
        args.push('--bind', m.path, m.path);
        break;
      case 'bind-at':
        args.push('--bind', m.src, m.path);
        break;
      case 'tmpfs':
        args.push('--tmpfs', m.path);
        break;
      case 'empty-dir':
        args.push('--tmpfs', m.path, '--remount-ro', m.path);
        break;
      case 'null-file':
        args.push('--ro-bind', '/dev/null', m.path);
        break;
      default: {
        const never: never = m;
        return never;
      }
    }
  }
  for (const name of env.unset) args.push('--unsetenv', name);
  for (const [name, value] of Object.entries(env.set)) args.push('--setenv', name, value);
  args.push('--chdir', plan.cwd, '--', ...argv);
  return args;
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function byDepth(a: string, b: string): number {
  return a.split(path.sep).length - b.split(path.sep).length || a.localeCompare(b);
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => path.resolve(p)))];
}

/**
 * Pure: the run's {@link CommandSandbox} when the agents' sandbox is on and bubblewrap is there (`bwrap`: its path,
 * found by the preflight); undefined otherwise (`agent.sandbox: false`, or macOS, where checks and hooks run as the
 * user). `deny_read` is expanded against every HOME involved (the agents' and the orchestrator's own, which the
 * checks get), so `~/.ssh` is hidden whichever the command looks in.
 */
export function commandSandboxOf(input: {
  bwrap: string | undefined;
  denyRead: readonly string[];
  denyEnv: readonly string[];
  homes: readonly string[];
  gitCommonDir: string;
}): CommandSandbox | undefined {
  if (input.bwrap === undefined) return undefined;
  const homes = unique(input.homes);
  return {
    bwrap: input.bwrap,
    denyRead: unique(input.denyRead.flatMap((p) => homes.map((home) => expandHome(p, home)))),
    denyEnv: [...input.denyEnv],
    keepVisible: unique([...homes, input.gitCommonDir]),
  };
}

