import type { AgentRunRequest, AgentRunResult } from '../agents/types.js';
import { gitRaw } from '../git/client.js';
import { lastVerdictInText, readVerdict, VERDICT_JSON_SCHEMA, type Verdict } from './verdict.js';

/** What a reviewer may use: read files and history, change nothing. */
export const REVIEWER_ALLOWED_TOOLS = ['Read', 'Grep', 'Glob', 'Bash(git diff:*)', 'Bash(git log:*)', 'Bash(git show:*)', 'Bash(git status:*)'];
export const REVIEWER_DISALLOWED_TOOLS = ['Write', 'Edit', 'NotebookEdit'];

const MAX_DIFF_CHARS = 60_000;

const ASK_AGAIN =
  'Your answer could not be read as a verdict. Reply again with only the JSON object: ' +
  '{"verdict": "approve" | "request_changes", "summary": "...", "findings": [{"severity": "blocker" | "major" | "minor", "file": "...", "line": 1, "message": "..."}]}';

/** Everything about an agent call except what the review decides itself. */
export type ReviewInvoke = (req: Pick<AgentRunRequest, 'prompt' | 'resumeSessionId' | 'jsonSchema' | 'permissionMode' | 'allowedTools' | 'disallowedTools' | 'readOnly'>) => Promise<AgentRunResult>;

export type ReviewOutcome =
  | { kind: 'verdict'; verdict: Verdict; readable: boolean; sessionId?: string }
  /** The review itself could not run (API error, limit, crash): not a judgement of the work. */
  | { kind: 'error'; message: string; result: AgentRunResult };

/**
 * One review: a separate, read-only agent session judges the diff against the milestone. The verdict comes from
 * `structured_output`, else the last JSON object in the text; unreadable twice counts as request_changes.
 */
export async function runReview(opts: { invoke: ReviewInvoke; prompt: string }): Promise<ReviewOutcome> {
  const first = await opts.invoke({
    prompt: opts.prompt,
    jsonSchema: VERDICT_JSON_SCHEMA,
    permissionMode: 'default',
    allowedTools: REVIEWER_ALLOWED_TOOLS,
    disallowedTools: REVIEWER_DISALLOWED_TOOLS,
    readOnly: true,
  });
  const verdict = verdictOf(first);
  if (verdict) return { kind: 'verdict', verdict, readable: true, ...session(first) };
  if (isInfrastructureFailure(first)) return { kind: 'error', message: failureText(first), result: first };

  const second = first.sessionId
    ? await opts.invoke({
        prompt: ASK_AGAIN,
        resumeSessionId: first.sessionId,
        jsonSchema: VERDICT_JSON_SCHEMA,
        permissionMode: 'default',
        allowedTools: REVIEWER_ALLOWED_TOOLS,
        disallowedTools: REVIEWER_DISALLOWED_TOOLS,
        readOnly: true,
      })
    : undefined;
  const retried = second ? verdictOf(second) : undefined;
  if (retried) return { kind: 'verdict', verdict: retried, readable: true, ...session(second!) };
  if (second && isInfrastructureFailure(second)) return { kind: 'error', message: failureText(second), result: second };
  return {
    kind: 'verdict',
    readable: false,
    verdict: {
      verdict: 'request_changes',
      summary: 'The review verdict could not be read (asked twice); counted as request_changes.',
      findings: [],
    },
    ...session(second ?? first),
  };
}

function verdictOf(r: AgentRunResult): Verdict | undefined {
  return readVerdict(r.structuredOutput) ?? lastVerdictInText(r.resultText);
}

function session(r: AgentRunResult): { sessionId?: string } {
  return r.sessionId ? { sessionId: r.sessionId } : {};
}

/** Failures that say nothing about the work: the reviewer never got to answer. */
function isInfrastructureFailure(r: AgentRunResult): boolean {
  const kind = r.failure?.kind;
  switch (kind) {
    case 'usage_limit':
    case 'rate_limited':
    case 'api_error':
    case 'auth':
    case 'timeout':
    case 'idle_timeout':
    case 'aborted':
    case 'cannot_start':
    case 'crashed':
    case 'resume_failed':
      return true;
    case 'max_turns':
    case 'budget':
    case 'permission_denied':
    case 'bad_output':
    case 'structured_output_missing':
    case undefined:
      return false;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function failureText(r: AgentRunResult): string {
  return `review failed: ${r.failure?.kind}: ${r.failure?.message ?? 'no message'}`;
}

/** `git diff base..head` for the reviewer's prompt: a stat, then the patch, cut to a size a prompt can hold. */
export async function diffForReview(cwd: string, base: string, head: string): Promise<string> {
  const stat = await gitRaw(cwd, ['diff', '--stat', `${base}..${head}`]);
  const patch = await gitRaw(cwd, ['diff', `${base}..${head}`]);
  const cut = patch.length > MAX_DIFF_CHARS;
  return [
    stat,
    '',
    '```diff',
    cut ? `${patch.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters; read the files for the rest)` : patch,
    '```',
  ].join('\n');
}
