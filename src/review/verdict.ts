/** The reviewer's answer. Asked for with --json-schema; read back from `structured_output` or the result text. */
export type Severity = 'blocker' | 'major' | 'minor';

export interface ReviewFinding {
  severity: Severity;
  file?: string;
  line?: number;
  message: string;
}

export interface Verdict {
  verdict: 'approve' | 'request_changes';
  summary: string;
  findings: ReviewFinding[];
}

export const VERDICT_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['verdict', 'summary', 'findings'],
  properties: {
    verdict: { type: 'string', enum: ['approve', 'request_changes'] },
    summary: { type: 'string' },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['severity', 'message'],
        properties: {
          severity: { type: 'string', enum: ['blocker', 'major', 'minor'] },
          file: { type: 'string' },
          line: { type: 'integer', minimum: 1 },
          message: { type: 'string' },
        },
      },
    },
  },
} as const;

/** A verdict from an unknown value, or undefined when it is not one. Extra keys are ignored; bad findings dropped. */
export function readVerdict(value: unknown): Verdict | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.verdict !== 'approve' && v.verdict !== 'request_changes') return undefined;
  const findings = Array.isArray(v.findings) ? v.findings.map(readFinding).filter((f): f is ReviewFinding => f !== undefined) : [];
  return { verdict: v.verdict, summary: typeof v.summary === 'string' ? v.summary : '', findings };
}

function readFinding(value: unknown): ReviewFinding | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Record<string, unknown>;
  if (typeof f.message !== 'string' || f.message.trim() === '') return undefined;
  const severity: Severity = f.severity === 'blocker' || f.severity === 'major' || f.severity === 'minor' ? f.severity : 'major';
  return {
    severity,
    message: f.message,
    ...(typeof f.file === 'string' && f.file ? { file: f.file } : {}),
    ...(typeof f.line === 'number' && Number.isInteger(f.line) && f.line > 0 ? { line: f.line } : {}),
  };
}

/**
 * The last JSON object in free text that reads as a verdict: models often wrap the answer in prose or a ```json
 * fence. Scans every `{`, from the end, for a balanced object that parses.
 */
export function lastVerdictInText(text: string | undefined): Verdict | undefined {
  if (!text) return undefined;
  for (let start = text.lastIndexOf('{'); start >= 0; start = start === 0 ? -1 : text.lastIndexOf('{', start - 1)) {
    const end = matchingBrace(text, start);
    if (end === -1) continue;
    try {
      const verdict = readVerdict(JSON.parse(text.slice(start, end + 1)));
      if (verdict) return verdict;
    } catch {
      /* not JSON from here; try an earlier brace */
    }
  }
  return undefined;
}

/** Index of the `}` closing the `{` at `start`, honouring strings and escapes; -1 when unbalanced. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Feedback for the worker, one finding a line, most severe first. */
export function formatFindings(findings: readonly ReviewFinding[]): string {
  const order: Record<Severity, number> = { blocker: 0, major: 1, minor: 2 };
  return [...findings]
    .sort((a, b) => order[a.severity] - order[b.severity])
    .map((f) => `- [${f.severity}]${f.file ? ` ${f.file}${f.line ? `:${f.line}` : ''}` : ''}: ${f.message}`)
    .join('\n');
}
