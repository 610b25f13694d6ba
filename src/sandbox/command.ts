import { lstatSync, realpathSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { bwrapArgs, planCommandSandbox, PROTECTED_NAMES, type CommandSandbox, type PathKinds } from './plan.js';

/** A command ready to spawn inside the sandbox, and what to tidy up once it has ended. */
export interface SandboxedSpawn {
  file: string;
  args: string[];
  /** Removes the empty mount points bubblewrap had to create in the worktree (a missing `.claude` or `.mcp.json`). Never throws. */
  cleanup: () => void;
}

/**
 * The thin shell around {@link planCommandSandbox}: looks up which of the paths involved exist (and resolves
 * symbolic links, as bwrap would), then gives the bwrap command line that runs `argv` in `cwd`.
 * `env` is the environment the command would have had: its PATH entries and node's own folder stay visible;
 * TMPDIR is pointed at the private /tmp.
 */
export function sandboxedSpawn(
  sandbox: CommandSandbox,
  opts: { cwd: string; argv: readonly string[]; env: NodeJS.ProcessEnv; writable?: readonly string[]; overlays?: readonly { src: string; path: string }[] },
): SandboxedSpawn {
  const cwd = real(opts.cwd);
  const writable = (opts.writable ?? []).map(real);
  const keepVisible = [...(opts.env.PATH ?? '').split(path.delimiter).filter((p) => path.isAbsolute(p)), path.dirname(path.dirname(process.execPath))].map(real);
  const candidates = [
    ...sandbox.keepVisible.map(real),
    ...keepVisible,
    ...sandbox.denyRead,
    ...[cwd, ...writable].flatMap((w) => PROTECTED_NAMES.map((name) => path.join(w, name))),
  ];
  const overlays = (opts.overlays ?? []).map((o) => ({ src: real(o.src), path: real(o.path) }));
  const plan = planCommandSandbox({ sandbox: { ...sandbox, keepVisible: sandbox.keepVisible.map(real) }, cwd, writable, keepVisible, overlays, kinds: kindsOf(candidates) });
  return {
    file: sandbox.bwrap,
    args: bwrapArgs(plan, opts.argv, { unset: sandbox.denyEnv.filter((name) => opts.env[name] !== undefined), set: { TMPDIR: '/tmp' } }),
    cleanup: () => {
      for (const p of plan.createdMountPoints) {
        try {
          rmdirSync(p); // only if still empty
        } catch {
          /* not empty, or already gone */
        }
      }
    },
  };
}

function kindsOf(paths: readonly string[]): PathKinds {
  const kinds = new Map<string, 'file' | 'dir'>();
  for (const p of paths) {
    try {
      // lstat for deny_read entries that are links: hiding the link itself is enough, and bwrap binds over it.
      const st = lstatSync(p).isSymbolicLink() ? statSync(p) : lstatSync(p);
      kinds.set(p, st.isDirectory() ? 'dir' : 'file');
    } catch {
      /* missing */
    }
  }
  return kinds;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
