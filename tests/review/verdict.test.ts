import { describe, expect, it } from 'vitest';
import { formatFindings, lastVerdictInText, readVerdict } from '../../src/review/verdict.js';

describe('reading a review verdict', () => {
  it('takes structured output as it is, dropping malformed findings', () => {
    expect(readVerdict({ verdict: 'approve', summary: 'ok', findings: [{ severity: 'minor', message: 'nit' }, { message: '' }, 'x'] })).toEqual({
      verdict: 'approve',
      summary: 'ok',
      findings: [{ severity: 'minor', message: 'nit' }],
    });
    expect(readVerdict({ verdict: 'maybe' })).toBeUndefined();
    expect(readVerdict(null)).toBeUndefined();
  });

  it('finds the last JSON verdict in prose, fenced or not, with braces inside strings', () => {
    const text = [
      'I looked at {the code}. First thought: {"verdict": "approve", "summary": "draft", "findings": []}',
      'On reflection:',
      '```json',
      '{"verdict": "request_changes", "summary": "a } brace in text", "findings": [{"severity": "blocker", "file": "src/a.ts", "line": 3, "message": "crashes on {}"}]}',
      '```',
      'Thanks!',
    ].join('\n');
    expect(lastVerdictInText(text)).toEqual({
      verdict: 'request_changes',
      summary: 'a } brace in text',
      findings: [{ severity: 'blocker', file: 'src/a.ts', line: 3, message: 'crashes on {}' }],
    });
  });

  it('gives undefined when no verdict is there', () => {
    expect(lastVerdictInText('LGTM, ship it')).toBeUndefined();
    expect(lastVerdictInText('{"summary": "no verdict key"}')).toBeUndefined();
    expect(lastVerdictInText('{"verdict": "approve"')).toBeUndefined();
    expect(lastVerdictInText(undefined)).toBeUndefined();
  });

  it('formats findings for the worker, most severe first', () => {
    expect(formatFindings([{ severity: 'minor', message: 'nit' }, { severity: 'blocker', file: 'a.ts', line: 2, message: 'broken' }])).toBe('- [blocker] a.ts:2: broken\n- [minor]: nit');
  });
});
