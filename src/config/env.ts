import { error, type Diagnostic } from '../diagnostics.js';
import { show } from '../util/describe-zod-issue.js';
import { logLevel } from './fields.js';
import type { Config } from './schema.js';

/**
 * Environment variables that override the file (from the original tool's README): `LOG_LEVEL` and
 * `AUTO_RESUME`. An empty variable counts as unset, because `LOG_LEVEL= orchestrate` is how people
 * clear one in a shell. A bad value is reported naming the variable and leaves the file's value alone.
 */
export function applyEnvOverrides(config: Config, env: NodeJS.ProcessEnv): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];

  const level = env.LOG_LEVEL;
  if (level) {
    // Shells and the original (Python) tool spell levels every way: Info, WARNING.
    const spelled = level.trim().toLowerCase();
    const parsed = logLevel().safeParse(spelled === 'warning' ? 'warn' : spelled, { reportInput: true });
    if (parsed.success) config.logging.level = parsed.data;
    else diagnostics.push(envError('LOG_LEVEL', `expected "debug", "info", "warn" or "error" (any case), got ${show(level)}`));
  }

  const resume = env.AUTO_RESUME;
  if (resume) {
    const parsed = parseSwitch(resume);
    if (parsed !== undefined) config.auto_resume = parsed;
    else diagnostics.push(envError('AUTO_RESUME', `expected true/false, 1/0, yes/no or on/off, got ${show(resume)}`));
  }

  return diagnostics;
}

const SWITCH: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };

/** `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` in any case; undefined for anything else. */
export function parseSwitch(value: string): boolean | undefined {
  const key = value.trim().toLowerCase();
  return Object.hasOwn(SWITCH, key) ? SWITCH[key] : undefined;
}

function envError(name: string, problem: string): Diagnostic {
  return error('config-env-invalid', `environment variable ${name}: ${problem}`, {
    hint: `fix or unset ${name}`,
  });
}
