import { z } from 'zod';
import { MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT, MIN_DURATION_SECONDS, parseDurationSecondsExact } from '../util/duration.js';
import { MILESTONE_ID_PATTERN, type TaskSettings } from './types.js';

/**
 * The per-task settings a milestone's YAML front matter may set, each with a zod schema that both checks and
 * normalises (single strings become lists, `timeout` becomes seconds), a phrase for "expected ..." messages,
 * and an example line for hints.
 */
export interface SettingSpec<T> {
  schema: z.ZodType<T>;
  expected: string;
  example: string;
}

type SettingSpecs = { [K in keyof TaskSettings]-?: SettingSpec<NonNullable<TaskSettings[K]>> };

const nonEmptyString = z.string().trim().min(1);

/**
 * A value handed to the agent CLI (a model, a tool name). One starting with "-" is refused: on a command line it
 * reads as an option, and no model or tool is named that way. (The adapter also passes values as `--flag=value`,
 * so this is the first of two walls.)
 */
const cliValue = (what: string) =>
  nonEmptyString.refine((text) => !text.startsWith('-'), {
    error: (issue) => `${what} cannot start with "-" (got ${JSON.stringify(issue.input)}): it would read as a command-line option`,
  });

/** A single value is shorthand for a list of one. */
function listOf<T>(item: z.ZodType<T>, split: (text: string) => string[] = (text) => [text]) {
  return z.preprocess((value) => (typeof value === 'string' ? split(value) : value), z.array(item));
}

/** `Read, Edit, Bash(git diff, git log)` -> three tools: commas inside parentheses belong to the tool. */
export function splitToolList(text: string): string[] {
  const tools: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth = Math.max(0, depth - 1);
    if (char === ',' && depth === 0) {
      tools.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  tools.push(current.trim());
  return tools.filter((tool) => tool !== '');
}

/** `1A, 1B` -> two ids: one string may list several, as in a Dependencies section. */
export function splitDependencyIds(text: string): string[] {
  const ids = text
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  return ids.length > 0 ? ids : [text];
}

const timeoutSeconds = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const exact = parseDurationSecondsExact(value);
  if (exact === null || exact < MIN_DURATION_SECONDS) {
    ctx.issues.push({ code: 'custom', message: 'expected a duration of at least 1 second', input: value });
    return z.NEVER;
  }
  const seconds = Math.round(exact);
  if (seconds > MAX_TIMEOUT_SECONDS) {
    ctx.issues.push({ code: 'custom', message: `expected at most ${MAX_TIMEOUT_TEXT}`, input: value });
    return z.NEVER;
  }
  return seconds;
});

const COMMANDS = 'a shell command or a list of shell commands';

export const SETTING_SPECS: SettingSpecs = {
  depends_on: {
    schema: listOf(z.string().regex(MILESTONE_ID_PATTERN), splitDependencyIds),
    expected: 'a milestone id like 1A, or a list of them',
    example: 'depends_on: [1A, 1B]',
  },
  timeout: {
    schema: timeoutSeconds,
    expected: 'a number of seconds (at least 1) or a duration like "45m"',
    example: 'timeout: 45m',
  },
  model: { schema: cliValue('a model name'), expected: 'a non-empty model name (not starting with "-")', example: 'model: sonnet' },
  max_turns: { schema: z.int().min(1), expected: 'a whole number >= 1', example: 'max_turns: 30' },
  max_budget_usd: {
    schema: z.number().positive().finite(),
    expected: 'a number of US dollars > 0',
    example: 'max_budget_usd: 2.5',
  },
  allowed_tools: {
    schema: listOf(cliValue('a tool name'), splitToolList),
    expected: 'a list of tool names (none starting with "-"), or one comma-separated string',
    example: 'allowed_tools: [Read, Edit, "Bash(npm test:*)"]',
  },
  setup: { schema: listOf(nonEmptyString), expected: COMMANDS, example: 'setup: npm ci' },
  checks: { schema: listOf(nonEmptyString), expected: COMMANDS, example: 'checks: [npm test, npm run lint]' },
  review: { schema: z.boolean(), expected: 'true or false', example: 'review: false' },
};

export function isSettingKey(key: string): key is keyof TaskSettings {
  return Object.hasOwn(SETTING_SPECS, key);
}

/** Common names for settings, so the hint can say exactly which key was meant. */
export const SETTING_ALIASES: Readonly<Record<string, keyof TaskSettings>> = {
  dependencies: 'depends_on',
  dependency: 'depends_on',
  depends: 'depends_on',
  deps: 'depends_on',
  requires: 'depends_on',
  tools: 'allowed_tools',
  budget: 'max_budget_usd',
  max_budget: 'max_budget_usd',
  turns: 'max_turns',
  time_limit: 'timeout',
  check: 'checks',
  tests: 'checks',
};

/** Keys people put in front matter that belong in the markdown body instead. */
export const BODY_ONLY_KEYS: Readonly<Record<string, string>> = {
  title: 'the title is the "# ..." heading',
  description: 'write it under a "## Description" heading',
  tasks: 'write them under a "## Tasks" heading',
  estimate: 'write it under a "## Estimated Time" heading',
  estimated_time: 'write it under a "## Estimated Time" heading',
  exit_criteria: 'write them under a "## Exit Criteria" heading',
};
