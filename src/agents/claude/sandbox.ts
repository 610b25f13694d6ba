import { accessSync, constants } from 'node:fs';
import { release as osRelease } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * Claude Code's own OS-level sandbox for its shell tool (bubblewrap + socat on Linux and WSL2, Seatbelt on macOS),
 * as the orchestrator uses it: every agent's shell command runs inside it and is allowed without a prompt, with no
 * way out (no fallback to running unsandboxed), writes confined to the agent's worktree, credential folders
 * unreadable and the network closed except for the domains the user names.
 *
 * Setting names are those Claude Code 2.1.330 reads (its settings schema, checked in the pinned binary; behaviour
 * verified by running it): `sandbox.enabled`, `failIfUnavailable`, `autoAllowBashIfSandboxed`,
 * `allowUnsandboxedCommands`, `network.allowedDomains`, `network.strictAllowlist`, `filesystem.denyRead`,
 * `filesystem.denyWrite`, `credentials.envVars[{name, mode: "deny"}]`.
 */

/** `agent.sandbox.enabled`: `"auto"` = on wherever the platform has a sandbox. */
export type SandboxSetting = 'auto' | boolean;

/** The run-wide sandbox the adapter applies to every agent run (paths absolute, `~` already expanded). */
export interface SandboxPolicy {
  /** Hosts sandboxed commands may reach (Claude Code's syntax: `registry.npmjs.org`, `*.example.com`, `host:443`). */
  allowedDomains: string[];
  /** Files and folders sandboxed commands cannot read. */
  denyRead: string[];
  /** Environment variables removed inside the sandbox. */
  denyEnv: string[];
  /**
   * Never writable, whatever the working directory: the repository's shared git directory. Claude Code makes a
   * linked worktree's whole common `.git` writable (objects, refs, packed-refs, HEAD — measured), which would let an
   * agent move or delete any branch; the orchestrator commits the agents' work itself instead.
   */
  denyWrite: string[];
}

/** What the run does about the sandbox, decided before anything is created. */
export type SandboxDecision =
  | { kind: 'on'; policy: SandboxPolicy; platform: string }
  /** `false`, or `"auto"` where there is no sandbox: today's allow-list behaviour; `warning` is printed once. */
  | { kind: 'off'; warning?: string }
  /** Required (or `"auto"` on a platform that has one) but not usable: the run must not start (exit 3). */
  | { kind: 'unavailable'; problem: string };

/** Facts about the machine, gathered by {@link probeSandboxHost}; separate so the decision is a pure function. */
export interface SandboxHost {
  platform: NodeJS.Platform;
  /** `os.release()`: tells WSL1 (no sandbox) from WSL2. */
  release: string;
  /** Absolute paths of the tools found on PATH (Linux only), by name. */
  found: Partial<Record<'bwrap' | 'socat', string>>;
  /** When bwrap is there but could not start a sandbox: what it said. */
  bwrapError?: string;
}

export interface SandboxConfig {
  enabled: SandboxSetting;
  allowed_domains: readonly string[];
  deny_read: readonly string[];
  deny_env: readonly string[];
}

const LINUX_PACKAGES = 'bubblewrap and socat';
const INSTALL_HINT =
  'Install them (Debian/Ubuntu: `sudo apt-get install -y bubblewrap socat`; Fedora: `sudo dnf install -y bubblewrap socat`; ' +
  'Arch: `sudo pacman -S bubblewrap socat`), or set `agent.sandbox` to false to run agents with the allow-list instead ' +
  '(README: "Security model").';

/**
 * Pure: the sandbox decision for a configuration on a host.
 * - `false`: off, no warning.
 * - native Windows, WSL1 and other platforms without a sandbox: `"auto"` → off with one warning; `true` → unavailable.
 * - macOS: Seatbelt is built in → on.
 * - Linux/WSL2: on when bwrap and socat are on PATH and bwrap can start a sandbox; otherwise unavailable, for
 *   `"auto"` as well: the user's "auto" means "sandboxed where possible", and here it is possible after one install;
 *   silently running with less protection (or the allow-list, under which most real tasks fail) is what the
 *   setting exists to avoid. `agent.sandbox: false` is the explicit way to run without it.
 * `homeDir` expands `~` in the configured paths; `gitCommonDir` is the repository's shared `.git`.
 */
export function decideSandbox(config: SandboxConfig, host: SandboxHost, homeDir: string, gitCommonDir: string): SandboxDecision {
  if (config.enabled === false) return { kind: 'off' };
  const platform = platformName(host);
  const support = supportOf(host);
  if (support === 'none') {
    const what = `${platform} has no sandbox for Claude Code's shell tool`;
    if (config.enabled === true) {
      return { kind: 'unavailable', problem: `agent.sandbox is true, but ${what}. Run on Linux, WSL2 or macOS, or set agent.sandbox to "auto" or false.` };
    }
    return {
      kind: 'off',
      warning: `agent.sandbox is "auto", but ${what}: agents run with the allow-list (agent.allowed_tools) instead. WSL2 or macOS give them the sandbox.`,
    };
  }
  if (support === 'linux') {
    const missing = (['bwrap', 'socat'] as const).filter((t) => host.found[t] === undefined);
    if (missing.length > 0) {
      return {
        kind: 'unavailable',
        problem: `agent.sandbox is ${JSON.stringify(config.enabled)} and agents' shell commands run in Claude Code's sandbox, which needs ${LINUX_PACKAGES} on ${platform}; not found on PATH: ${missing.join(', ')}. ${INSTALL_HINT}`,
      };
    }
    if (host.bwrapError !== undefined) {
      return {
        kind: 'unavailable',
        problem: `bubblewrap (${host.found.bwrap}) cannot start a sandbox here: ${host.bwrapError}. It needs unprivileged user namespaces (in a container: run it with them allowed; on Ubuntu 24.04 see https://code.claude.com/docs/en/sandboxing for the AppArmor profile), or set agent.sandbox to false to run agents with the allow-list instead.`,
      };
    }
  }
  return {
    kind: 'on',
    platform,
    policy: {
      allowedDomains: [...config.allowed_domains],
      denyRead: config.deny_read.map((p) => expandHome(p, homeDir)),
      denyEnv: [...config.deny_env],
      denyWrite: [gitCommonDir],
    },
  };
}

function supportOf(host: SandboxHost): 'linux' | 'macos' | 'none' {
  switch (host.platform) {
    case 'darwin':
      return 'macos';
    case 'linux':
      return isWsl1(host.release) ? 'none' : 'linux';
    default:
      return 'none';
  }
}

function platformName(host: SandboxHost): string {
  if (host.platform === 'win32') return 'Windows';
  if (host.platform === 'darwin') return 'macOS';
  if (host.platform === 'linux') return isWsl1(host.release) ? 'WSL1' : /microsoft/i.test(host.release) ? 'WSL2' : 'Linux';
  return host.platform;
}

/** WSL1 kernels report e.g. `4.4.0-19041-Microsoft`; WSL2 ones `5.15.90.1-microsoft-standard-WSL2`. */
function isWsl1(release: string): boolean {
  return /microsoft/i.test(release) && !/wsl2/i.test(release);
}

/** `~` and `~/x` relative to the agents' HOME; other paths are made absolute against it too (they are about HOME). */
export function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return path.join(homeDir, p.slice(2));
  return path.resolve(homeDir, p);
}

/**
 * The machine facts for {@link decideSandbox}: which tools are on PATH and whether bwrap can start a sandbox
 * (`bwrap --ro-bind / / --dev /dev --unshare-net true`, a few milliseconds). Never throws.
 */
export async function probeSandboxHost(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<SandboxHost> {
  const host: SandboxHost = { platform, release: osRelease(), found: {} };
  if (platform !== 'linux' || isWsl1(host.release)) return host;
  for (const tool of ['bwrap', 'socat'] as const) {
    const found = findOnPath(tool, env.PATH ?? '');
    if (found) host.found[tool] = found;
  }
  if (host.found.bwrap) {
    // The probe runs this very node by its absolute path: `true` need not be on a minimal PATH.
    const r = await execa(host.found.bwrap, ['--ro-bind', '/', '/', '--dev', '/dev', '--unshare-net', process.execPath, '-e', ''], {
      reject: false,
      stdin: 'ignore',
      timeout: 10_000,
    });
    if (r.exitCode !== 0) host.bwrapError = (String(r.stderr ?? '').trim() || `exit ${r.exitCode ?? r.signal ?? '?'}`).slice(0, 300);
  }
  return host;
}

function findOnPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Pure: the `--settings` JSON for one agent run. `readOnly` (the reviewer) also makes the working directory
 * unwritable, so the shell may run the project's tests but change nothing in the worktree.
 */
export function sandboxSettings(policy: SandboxPolicy, run: { cwd: string; readOnly: boolean }): object {
  return {
    sandbox: {
      enabled: true,
      // Claude Code otherwise warns and runs commands unsandboxed when the sandbox cannot start.
      failIfUnavailable: true,
      autoAllowBashIfSandboxed: true,
      // Otherwise the model may ask for `dangerouslyDisableSandbox` and run a command outside it.
      allowUnsandboxedCommands: false,
      network: { allowedDomains: [...policy.allowedDomains], strictAllowlist: true },
      filesystem: {
        denyRead: [...policy.denyRead],
        denyWrite: run.readOnly ? [...policy.denyWrite, run.cwd] : [...policy.denyWrite],
      },
      ...(policy.denyEnv.length > 0 ? { credentials: { envVars: policy.denyEnv.map((name) => ({ name, mode: 'deny' })) } } : {}),
    },
    // autoAllowBashIfSandboxed only allows what Claude Code's command analyser can check: a loop over a variable
    // (`for f in …; do … "$f"; done`), a brace group (`{ …; } 2>&1`) and other shapes it cannot read fall through to
    // the permission prompt, which headless is a denial ("A variable in this command can't be checked before it
    // runs"; measured with 2.1.330). The rule allows the whole Bash tool; every command still runs inside the
    // sandbox (allowUnsandboxedCommands false, failIfUnavailable; measured: loops, brace groups and commands a
    // trusted project lists in sandbox.excludedCommands were all "Read-only file system" outside the worktree).
    // The user's own deny rules (agent.disallowed_tools) still win over it.
    permissions: { allow: ['Bash'] },
    // npm looks for its own updates on every run: in the sandbox that is a blocked connection to
    // registry.npmjs.org, a `<sandbox_violations>` line counted as a refusal for every `npm test` (measured).
    env: { npm_config_update_notifier: 'false' },
  };
}

/**
 * How many of a shell tool result's lines are refusals by the sandbox: each line of a `<sandbox_violations>` block
 * (Claude Code appends one when the sandbox denied something it can report, e.g. a host not on the allow list) and
 * each "Read-only file system" error (a write bubblewrap refused; Linux reports those to nobody else).
 */
export function countSandboxRefusals(text: string): number {
  let count = 0;
  let inBlock = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '<sandbox_violations>') inBlock = true;
    else if (t === '</sandbox_violations>') inBlock = false;
    else if (inBlock && t !== '') count++;
    else if (/Read-only file system/.test(t)) count++;
  }
  return count;
}
