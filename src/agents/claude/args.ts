import type { AgentRunRequest } from '../types.js';
import { sandboxSettings, type SandboxPolicy } from './sandbox.js';

/**
 * The command line for one headless Claude Code run. Pure: no environment lookups, so it is easy to test.
 *
 * Layout: `-p --output-format=stream-json --verbose [--option=value…] [extraArgs…]`; the prompt is not on the
 * command line at all: the adapter writes it to the CLI's standard input (`-p` without a prompt argument reads
 * stdin), so a prompt of any size starts (Linux caps one argument at 128 KiB: `spawn E2BIG`) and no prompt text can
 * be read as an option.
 * - Every value is attached to its flag (`--model=sonnet`, one `--allowedTools=<tool>` per tool). The CLI parses
 *   argv with commander, which takes everything after the first "=" as the value, so a value from the
 *   configuration or front matter that starts with "-" (`--dangerously-skip-permissions` as a tool name) stays a
 *   value and can never become a flag of its own. `--allowedTools` is variadic: in the separated form it would also
 *   swallow the next arguments; repeated `=` forms accumulate instead.
 * - stream-json needs `--verbose` with `-p`, or the CLI exits 1 at once.
 * - `extraArgs` (config `agent.extra_args`) are the user's own flags, passed as written.
 * - With a sandbox policy, its settings go in as `--settings=<json>`: per run, never written to a file in the
 *   user's repository or their own Claude settings (flag settings outrank the project's and the user's).
 */
export function buildClaudeArgs(req: AgentRunRequest, sandbox?: SandboxPolicy): string[] {
  const args = ['-p', '--output-format=stream-json', '--verbose'];
  const option = (flag: string, value: string) => args.push(`${flag}=${value}`);
  if (req.resumeSessionId) option('--resume', req.resumeSessionId);
  if (req.model) option('--model', req.model);
  if (req.permissionMode) option('--permission-mode', req.permissionMode);
  for (const tool of req.allowedTools ?? []) option('--allowedTools', tool);
  for (const tool of req.disallowedTools ?? []) option('--disallowedTools', tool);
  if (req.maxTurns !== undefined) option('--max-turns', String(positiveInteger('maxTurns', req.maxTurns)));
  if (req.maxBudgetUsd !== undefined) option('--max-budget-usd', String(positiveNumber('maxBudgetUsd', req.maxBudgetUsd)));
  if (req.appendSystemPrompt) option('--append-system-prompt', req.appendSystemPrompt);
  if (req.jsonSchema) option('--json-schema', JSON.stringify(req.jsonSchema));
  if (sandbox) option('--settings', JSON.stringify(sandboxSettings(sandbox, { cwd: req.cwd, readOnly: req.readOnly === true })));
  args.push(...(req.extraArgs ?? []));
  return args;
}

/** Flags with which the CLI, running as root, refuses to start unless IS_SANDBOX=1. */
const BYPASS_FLAGS = new Set(['--dangerously-skip-permissions', '--allow-dangerously-skip-permissions']);

export function wantsPermissionBypass(req: AgentRunRequest): boolean {
  return req.permissionMode === 'bypassPermissions' || (req.extraArgs ?? []).some((a) => BYPASS_FLAGS.has(a));
}

/**
 * The environment added on top of the orchestrator's own for this run.
 *
 * As root, bypassPermissions makes the CLI exit 1 with "--dangerously-skip-permissions cannot be used with root/sudo
 * privileges" unless IS_SANDBOX=1. The user opted into bypass by choosing it, so we set the variable rather than fail.
 * An explicit IS_SANDBOX in the request wins.
 */
export function buildClaudeEnv(req: AgentRunRequest, isRoot: boolean): Record<string, string> {
  const env: Record<string, string> = { ...(req.env ?? {}) };
  if (isRoot && wantsPermissionBypass(req) && env.IS_SANDBOX === undefined) env.IS_SANDBOX = '1';
  return env;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
  return value;
}

function positiveNumber(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
