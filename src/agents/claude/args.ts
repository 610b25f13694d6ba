import type { AgentRunRequest } from '../types.js';

/**
 * The command line for one headless Claude Code run. Pure: no environment lookups, so it is easy to test.
 *
 * Layout: `-p --output-format stream-json --verbose [options…] [extraArgs…] -- <prompt>`.
 * - `-p` is a boolean flag; the prompt is the positional argument. It goes last, after `--`, because the CLI parses
 *   its argv with commander: a prompt starting with "-" (a markdown list, say) would otherwise be rejected as an
 *   unknown option, and `--allowedTools a b` is variadic and would swallow a prompt that followed it.
 * - stream-json needs `--verbose` with `-p`, or the CLI exits 1 at once.
 */
export function buildClaudeArgs(req: AgentRunRequest): string[] {
  const args = ['-p', '--output-format', 'stream-json', '--verbose'];
  if (req.resumeSessionId) args.push('--resume', req.resumeSessionId);
  if (req.model) args.push('--model', req.model);
  if (req.permissionMode) args.push('--permission-mode', req.permissionMode);
  if (req.allowedTools?.length) args.push('--allowedTools', ...req.allowedTools);
  if (req.disallowedTools?.length) args.push('--disallowedTools', ...req.disallowedTools);
  if (req.maxTurns !== undefined) args.push('--max-turns', String(positiveInteger('maxTurns', req.maxTurns)));
  if (req.maxBudgetUsd !== undefined) args.push('--max-budget-usd', String(positiveNumber('maxBudgetUsd', req.maxBudgetUsd)));
  if (req.appendSystemPrompt) args.push('--append-system-prompt', req.appendSystemPrompt);
  if (req.jsonSchema) args.push('--json-schema', JSON.stringify(req.jsonSchema));
  args.push(...(req.extraArgs ?? []));
  args.push('--', req.prompt);
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
