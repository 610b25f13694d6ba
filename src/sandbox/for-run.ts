import { homedir } from 'node:os';
import { decideSandbox, probeSandboxHost, type SandboxDecision } from '../agents/claude/sandbox.js';
import type { Config } from '../config/schema.js';
import { commandSandboxOf, type CommandSandbox } from './plan.js';

/** The sandboxes of a run (or of a command acting for one, as `orchestrate accept`), decided before anything is created. */
export type RunSandboxes =
  /** Required (or `"auto"` where the platform has one) but not usable: nothing may start (exit 3). */
  | { kind: 'unavailable'; problem: string }
  | {
      kind: 'ready';
      /** The agents' sandbox: `on` or `off` (with the warning `off` may carry). */
      agents: Exclude<SandboxDecision, { kind: 'unavailable' }>;
      /** Where checks, set-up and commit hooks run: bubblewrap (Linux, WSL2), undefined when they run as the user. */
      commands?: CommandSandbox;
      /** To print once each, as `warning: …`: why something runs with less confinement than asked for. */
      warnings: string[];
    };

/**
 * Probes the machine (PATH, a bwrap start: one process) and decides, from `agent.sandbox`, the agents' sandbox and the
 * one checks and commit hooks run in. `env` is the orchestrator's own environment (its PATH and HOME); the agents'
 * HOME is `agent.env.HOME` when set. `gitCommonDir`: the repository's shared `.git` (kept read-only).
 */
export async function decideRunSandboxes(config: Pick<Config, 'agent'>, env: NodeJS.ProcessEnv, gitCommonDir: string): Promise<RunSandboxes> {
  const agentHome = config.agent.env.HOME ?? env.HOME ?? homedir();
  const host = await probeSandboxHost(env);
  const agents = decideSandbox(config.agent.sandbox, host, agentHome, gitCommonDir);
  if (agents.kind === 'unavailable') return { kind: 'unavailable', problem: agents.problem };
  const warnings = agents.kind === 'off' && agents.warning ? [agents.warning] : [];
  // Checks and commit hooks run the agents' code: in bubblewrap too, where there is one (src/sandbox), unless
  // agent.sandbox.checks is false.
  const commands =
    agents.kind === 'on' && config.agent.sandbox.checks
      ? commandSandboxOf({
          bwrap: host.found.bwrap,
          denyRead: config.agent.sandbox.deny_read,
          denyEnv: config.agent.sandbox.deny_env,
          homes: [agentHome, env.HOME ?? homedir()],
          gitCommonDir,
        })
      : undefined;
  if (agents.kind === 'on' && config.agent.sandbox.checks && !commands) warnings.push(`on ${agents.platform} checks and commit hooks run as you, outside the sandbox (only Linux and WSL2 confine them, with bubblewrap)`);
  return { kind: 'ready', agents, ...(commands ? { commands } : {}), warnings };
}
