import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER } from '../../src/report/tasks-md.js';
import type { RecordedRequest } from '../../src/scripted-api/types.js';
import { isAgentTurn, readState, sessionHeader, setupE2E, tasksMdRow, transcriptResult, unexpected, view, type E2E, type OrchestratorResult } from './harness.js';
import { defaultPaths, taskWorktree } from '../support/paths.js';

/**
 * The quality gate with the real claude CLI (tests/engine/quality.test.ts with a fake agent covers the same
 * behaviours): reviews answered through the StructuredOutput tool (--json-schema), review findings and failed checks
 * sent back to the worker's own resumed session, a task never approved, and a merge conflict resolved by an agent.
 * Two runs; 17 claude processes in all (each run's preflight also starts `claude --version`).
 */

// ---- milestones, prompts, requests ----------------------------------------------------------------------------------

function milestone(id: string, title: string, task: string, exit: string, checks: string[]): string {
  return [
    '---',
    'checks:',
    ...checks.map((c) => `  - '${c.replace(/'/g, "''")}'`),
    '---',
    `# Milestone ${id} - ${title}`,
    '',
    '## Tasks',
    `1. ${task}`,
    '',
    '## Exit Criteria',
    `- ${exit}`,
    '',
    '## Dependencies',
    '- None',
    '',
    '## Estimated Time',
    '30 min',
    '',
  ].join('\n');
}

/** How each agent's prompt opens (templates/*.md). Reviews and resolutions also name the milestone: match on these. */
const WORK = (id: string) => `You are working on milestone ${id}:`;
const REVIEW = (id: string) => `You are reviewing the work done for milestone ${id}:`;
const RESOLVE = 'You are resolving a git merge conflict';

/** The agent turns whose conversation holds `opening`, in the order the server got them. */
function requestsOf(e2e: E2E, opening: string): RecordedRequest[] {
  return e2e.server.requests.filter((r) => isAgentTurn(r) && view(r).conversationText.includes(opening));
}

function ruleNames(requests: readonly RecordedRequest[]): Array<string | undefined> {
  return requests.map((r) => r.rule?.name);
}

/** The prompt an agent was started with: the first user message's text, without Claude Code's reminders. */
function promptOf(r: RecordedRequest): string {
  type Block = { type: string; text?: string };
  const first = (r.body as { messages: Array<{ role: string; content: string | Block[] }> }).messages.find((m) => m.role === 'user');
  const blocks: Block[] = typeof first?.content === 'string' ? [{ type: 'text', text: first.content }] : (first?.content ?? []);
  return blocks
    .filter((b) => b.type === 'text' && b.text !== undefined && !b.text.trimStart().startsWith('<system-reminder>'))
    .map((b) => b.text!)
    .join('\n');
}

/** The cost the CLI itself reported in a transcript's result line. */
function transcriptCost(root: string, transcript: string): number {
  const line = transcriptResult(root, transcript);
  if (!line) throw new Error(`no result line in ${transcript}`);
  return line.total_cost_usd as number;
}

// ---- TASKS.md -------------------------------------------------------------------------------------------------------

/** The user's own TASKS.md, committed before the run: their text around a block an earlier run left. */
function userTasksMd(eol: string) {
  const before = ['# Release 2.4 tracker', '', 'Owner: @dana — keep this file in review.', '', ''].join(eol);
  const after = [eol, '## Notes (mine)', '', '- Ask ops about the staging slot.', '- Trailing spaces stay:   ', ''].join(eol);
  return { before, after, document: `${before}${BEGIN_MARKER}${eol}old progress from an earlier run${eol}${END_MARKER}${after}` };
}

/** TASKS.md after the run: the user's text must be byte for byte what it was; the block is the orchestrator's. */
function expectUserTextKept(root: string, user: ReturnType<typeof userTasksMd>, eol: string): string {
  const text = readFileSync(path.join(root, 'TASKS.md'), 'utf8');
  const begin = text.indexOf(BEGIN_MARKER);
  const end = text.indexOf(END_MARKER);
  expect(begin, text).toBeGreaterThan(0);
  expect(end, text).toBeGreaterThan(begin);
  expect(text.slice(0, begin)).toBe(user.before);
  expect(text.slice(end + END_MARKER.length)).toBe(user.after);
  const block = text.slice(begin, end);
  expect(block).not.toContain('old progress from an earlier run');
  // The block takes the document's line endings.
  if (eol === '\r\n') expect(block.split('\n').slice(0, -1).every((l) => l.endsWith('\r'))).toBe(true);
  else expect(block).not.toContain('\r');
  return block;
}

/** Status, review rounds and cost cells of a task's row (task, title, status, rounds, cost, time). */
function rowCells(block: string, id: string) {
  const cells = tasksMdRow(block, id)
    .replace(/\r$/, '')
    .split(' | ')
    .map((c) => c.replace(/^\| |\s*\|$/g, ''));
  expect(cells).toHaveLength(6);
  return { status: cells[2], rounds: cells[3], cost: /^\$\d+\.\d{4}$/.test(cells[4] ?? '') ? 'spent' : cells[4] };
}

// ---- run 1: one stage, three tasks, three review outcomes ------------------------------------------------------------

const FINDING_1B = { severity: 'major', file: '1B.txt', line: 1, message: 'There is no test for 1B.txt: add 1B.test.txt as the milestone asks' };
const FINDING_1C = { severity: 'blocker', file: '1C.txt', line: 1, message: '1C.txt still says TODO instead of the final wording' };

/** Only a request offering the StructuredOutput tool (claude run with --json-schema) gets a verdict. */
const reviewOf = (id: string) => ({ tool_offered: 'StructuredOutput', conversation: REVIEW(id) });

/** A worker's first run: write `<id>.txt`, then stop; the orchestrator commits what it leaves. */
function firstRun(id: string, content: string) {
  return [
    {
      name: `${id}-write`,
      match: { conversation: WORK(id), turn: 0 },
      reply: { text: `Creating ${id}.txt.`, tool_use: { name: 'Write', input: { file_path: `{{cwd}}/${id}.txt`, content } } },
    },
    { name: `${id}-done`, match: { conversation: WORK(id), turn: 1, last_user: 'File created successfully' }, reply: `${id}.txt is written.` },
  ];
}

/** The worker's resumed session: its first run's two replies are history, so the feedback arrives at turn 2. */
function remediation(id: string, finding: string, file: string, content: string) {
  return [
    {
      name: `${id}-fix`,
      match: { conversation: WORK(id), turn: 2, last_user: finding },
      reply: { text: 'Addressing the review.', tool_use: { name: 'Write', input: { file_path: `{{cwd}}/${file}`, content } } },
    },
    { name: `${id}-fixed`, match: { conversation: WORK(id), turn: 3, last_user: 'File created successfully' }, reply: `Added ${file}.` },
  ];
}

const REVIEW_SCENARIO = {
  rules: [
    { name: '1A-review', match: reviewOf('1A'), reply: { verdict: 'approve', summary: '1A.txt exists as asked.' } },
    {
      // 1B's second review: only when the diff it is shown adds the test the first review asked for.
      name: '1B-review-2',
      match: { tool_offered: 'StructuredOutput', conversation: { regex: `${REVIEW('1B')}[\\s\\S]*\\+\\+\\+ b/1B\\.test\\.txt` } },
      reply: { verdict: 'approve', summary: 'The test is there now; every exit criterion is met.' },
    },
    { name: '1B-review-1', times: 1, match: reviewOf('1B'), reply: { verdict: 'request_changes', summary: 'The test is missing.', findings: [FINDING_1B] } },
    { name: '1C-review', match: reviewOf('1C'), reply: { verdict: 'request_changes', summary: 'Not finished.', findings: [FINDING_1C] } },
    ...firstRun('1A', 'made by 1A\n'),
    ...firstRun('1B', 'made by 1B\n'),
    ...remediation('1B', FINDING_1B.message, '1B.test.txt', 'expect 1B.txt to say "made by 1B"\n'),
    ...firstRun('1C', 'TODO\n'),
    ...remediation('1C', FINDING_1C.message, '1C.question.txt', 'Which wording should 1C.txt have?\n'),
  ],
};

describe('e2e: reviews with the real claude CLI — approved at once, after one round, never (max_rounds 1)', () => {
  let e2e: E2E;
  let result: OrchestratorResult;
  let state: any;
  const user = userTasksMd('\n');

  beforeAll(async () => {
    e2e = await setupE2E({
      milestones: {
        '1A': milestone('1A', 'Greeting', 'Create 1A.txt saying who made it', '1A.txt exists', ['test -s 1A.txt']),
        '1B': milestone('1B', 'Tested file', 'Create 1B.txt and its test, 1B.test.txt', '1B.txt and 1B.test.txt exist', ['test -s 1B.txt']),
        '1C': milestone('1C', 'Final wording', 'Write the final wording into 1C.txt', '1C.txt holds the final wording, no TODO', ['test -s 1C.txt']),
      },
      files: { 'TASKS.md': user.document },
      scenario: REVIEW_SCENARIO,
      config: { max_parallel_tasks: 3, review: { enabled: true, max_rounds: 1 } },
    });
    result = await e2e.run();
    state = readState(e2e.repo.root);
  }, 90_000);
  afterAll(() => e2e?.cleanup());

  it('ends with 1A and 1B merged, 1C needing attention, exit 1; every request was scripted', () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(unexpected(e2e.server)).toEqual([]);
    expect(state.tasks['1A']).toMatchObject({ status: 'done', merged: true });
    expect(state.tasks['1B']).toMatchObject({ status: 'done', merged: true });
    expect(state.tasks['1C'].status).toBe('needs_attention');
    expect(state.status).toBe('stopped');
    expect(result.stdout).toMatch(/1C\s+needs_attention\s+not approved after 2 rounds/);
    // 10 agent processes: 1A worker + review; 1B and 1C worker + review + remediation + review.
    expect(Object.values(state.tasks).flatMap((t: any) => t.transcripts)).toHaveLength(10);
  });

  it('(a) 1A: one review, a separate read-only session answering through StructuredOutput; approved and merged', () => {
    const rec = state.tasks['1A'];
    const reviews = requestsOf(e2e, REVIEW('1A'));
    expect(ruleNames(reviews)).toEqual(['1A-review']);
    const tools = view(reviews[0]!).toolNames;
    expect(tools).toContain('StructuredOutput');
    for (const tool of ['Write', 'Edit', 'NotebookEdit']) expect(tools).not.toContain(tool);
    // The review sees the milestone and the diff of the task's work.
    expect(promptOf(reviews[0]!)).toMatch(/^You are reviewing the work done for milestone 1A: Greeting/);
    expect(promptOf(reviews[0]!)).toContain('+made by 1A');
    expect(sessionHeader(reviews[0]!)).not.toBe(rec.sessionId);
    expect(view(reviews[0]!).cwd).toBe(taskWorktree(e2e.repo.root, '1A'));

    expect(rec.rounds).toHaveLength(1);
    expect(rec.rounds[0]).toMatchObject({ round: 1, verdict: 'approve', summary: '1A.txt exists as asked.', findings: [], checks: [{ command: 'test -s 1A.txt', ok: true }] });
    expect(rec.transcripts.map((t: string) => path.basename(t))).toEqual(['1A.agent-1.jsonl', '1A.review-2.jsonl']);
    expect(rec.rounds[0].reviewCostUsd).toBeCloseTo(transcriptCost(e2e.repo.root, rec.transcripts[1]), 10);
    expect(rec.costUsd).toBeCloseTo(rec.transcripts.reduce((n: number, t: string) => n + transcriptCost(e2e.repo.root, t), 0), 10);
  });

  it('(b) 1B: the findings reach the worker\'s resumed session; the second review sees the fix and approves', () => {
    const rec = state.tasks['1B'];
    const work = requestsOf(e2e, WORK('1B'));
    expect(ruleNames(work)).toEqual(['1B-write', '1B-done', '1B-fix', '1B-fixed']);
    // The remediation is the first run's session, continued: same session id, its history, the findings last.
    const fix = work[2]!;
    expect(sessionHeader(fix)).toBe(sessionHeader(work[0]!));
    expect(sessionHeader(fix)).toBe(rec.sessionId);
    expect(view(fix).turn).toBe(2);
    const feedback = view(fix).lastUserText;
    expect(feedback).toMatch(/^The work on milestone 1B: Tested file is not accepted yet\./);
    expect(feedback).toContain('The reviewer requested changes: The test is missing.');
    expect(feedback).toContain(`- [major] 1B.txt:1: ${FINDING_1B.message}`);
    expect(view(fix).cwd).toBe(taskWorktree(e2e.repo.root, '1B'));

    // Two reviews, each its own session; the second matched only because its diff holds 1B.test.txt.
    const reviews = requestsOf(e2e, REVIEW('1B'));
    expect(ruleNames(reviews)).toEqual(['1B-review-1', '1B-review-2']);
    expect(new Set([...reviews.map(sessionHeader), rec.sessionId]).size).toBe(3);

    expect(rec.rounds.map((r: any) => r.verdict)).toEqual(['request_changes', 'approve']);
    expect(rec.rounds[0]).toMatchObject({ summary: 'The test is missing.', findings: [FINDING_1B] });
    expect(rec.rounds[1]).toMatchObject({ round: 2, findings: [], checks: [{ command: 'test -s 1B.txt', ok: true }] });
    expect(rec.transcripts.map((t: string) => path.basename(t))).toEqual(['1B.agent-1.jsonl', '1B.review-2.jsonl', '1B.agent-3.jsonl', '1B.review-4.jsonl']);
    expect(transcriptResult(e2e.repo.root, rec.transcripts[2])!.session_id).toBe(rec.sessionId);
    expect(rec.rounds[0].reviewCostUsd).toBeCloseTo(transcriptCost(e2e.repo.root, rec.transcripts[1]), 10);
    expect(rec.rounds[1].reviewCostUsd).toBeCloseTo(transcriptCost(e2e.repo.root, rec.transcripts[3]), 10);
    expect(rec.costUsd).toBeCloseTo(rec.transcripts.reduce((n: number, t: string) => n + transcriptCost(e2e.repo.root, t), 0), 10);
    // The fix is on the branch and, merged, on main.
    expect(e2e.repo.git('show', 'main:1B.test.txt')).toBe('expect 1B.txt to say "made by 1B"');
  });

  it('(c) 1C: never approved — needs_attention after 2 rounds, branch kept and not merged; the rest of the stage is', () => {
    const { git } = e2e.repo;
    const rec = state.tasks['1C'];
    expect(ruleNames(requestsOf(e2e, WORK('1C')))).toEqual(['1C-write', '1C-done', '1C-fix', '1C-fixed']);
    expect(ruleNames(requestsOf(e2e, REVIEW('1C')))).toEqual(['1C-review', '1C-review']);
    expect(rec.rounds.map((r: any) => r.verdict)).toEqual(['request_changes', 'request_changes']);
    expect(rec.rounds[1].findings).toEqual([FINDING_1C]);
    expect(rec.reason).toBe('not approved after 2 rounds: 1 check passed, review: request_changes (Not finished.)');
    expect(rec.merged).toBeFalsy();

    // The branch keeps both of the worker's attempts; none of it is on main.
    expect(git('rev-parse', 'milestone/1C')).toBe(rec.headSha);
    expect(git('show', 'milestone/1C:1C.question.txt')).toBe('Which wording should 1C.txt have?');
    expect(git('branch', '--merged', 'main', '--list', 'milestone/*').split('\n').map((b) => b.replace(/^[*+ ]+/, ''))).toEqual(['milestone/1A', 'milestone/1B']);
    expect(existsSync(path.join(e2e.repo.root, '1C.txt'))).toBe(false);
    // 1A and 1B are merged, in milestone order, and main moved to the stage's result.
    expect(git('log', '--merges', '--first-parent', '--format=%s', 'main').split('\n').reverse()).toEqual(['Merge milestone 1A: Greeting', 'Merge milestone 1B: Tested file']);
    expect(git('rev-parse', 'main')).toBe(state.stages[0].mergedSha);
    expect(readFileSync(path.join(e2e.repo.root, '1A.txt'), 'utf8')).toBe('made by 1A\n');
    expect(readFileSync(path.join(e2e.repo.root, '1B.txt'), 'utf8')).toBe('made by 1B\n');
  });

  it('TASKS.md: status, review rounds and cost per task, the findings under the table; the user\'s text around the block kept byte for byte', () => {
    const block = expectUserTextKept(e2e.repo.root, user, '\n');
    expect(block).toContain('Status: **stopped** · 2/3 tasks done');
    expect(rowCells(block, '1A')).toEqual({ status: '✅ done', rounds: '1 (approve)', cost: 'spent' });
    expect(rowCells(block, '1B')).toEqual({ status: '✅ done', rounds: '2 (approve)', cost: 'spent' });
    expect(rowCells(block, '1C')).toEqual({ status: '⚠️ needs attention', rounds: '2 (request_changes)', cost: 'spent' });
    expect(block).toContain('- **1C** ⚠️ needs attention: not approved after 2 rounds: 1 check passed, review: request_changes (Not finished.)');
    expect(block).toContain('  - round 2: review request_changes — Not finished.');
    const session = readState(e2e.repo.root).tasks['1C'].sessionId;
    // The run was sandboxed: continuing by hand passes the worker's sandbox settings (written in the run's log folder).
    expect(block).toMatch(new RegExp(`claude --resume ${session} --settings /\\S+/1C\\.settings\\.json\``));
    // The committed TASKS.md is untouched: the orchestrator only rewrites the working copy.
    expect(e2e.repo.git('show', 'main:TASKS.md')).toBe(user.document.trimEnd());
    expect(e2e.repo.git('status', '--porcelain')).toBe('M TASKS.md');
  });
});

// ---- run 2: a check that fails, then a merge conflict -----------------------------------------------------------------

const CHECK_1A = 'grep -H status 1A.txt && grep -q "status: ready" 1A.txt';

const MERGE_SCENARIO = {
  rules: [
    // The conflict-resolution agent, in the orchestrator's merge worktree: read the file, keep both sides, stage it.
    {
      name: 'resolve-read',
      match: { conversation: RESOLVE, turn: 0 },
      reply: { text: 'Looking at the conflict.', tool_use: { name: 'Read', input: { file_path: '{{cwd}}/notes.txt' } } },
    },
    {
      name: 'resolve-write',
      match: { conversation: RESOLVE, turn: 1, last_user: { regex: '<<<<<<<[^\\n]*\\n[\\s\\S]*from 1B[\\s\\S]*=======[\\s\\S]*from 1C[\\s\\S]*>>>>>>>' } },
      reply: { text: 'Both lines belong in the file.', tool_use: { name: 'Write', input: { file_path: '{{cwd}}/notes.txt', content: 'from 1B\nfrom 1C\n' } } },
    },
    { name: 'resolve-done', match: { conversation: RESOLVE, turn: 2, last_user: 'notes.txt has been updated successfully' }, reply: 'Resolved notes.txt: it keeps the lines of both milestones.' },
    // 1A: a draft the check rejects; the resumed session reads the file and fixes it.
    { name: '1A-write', match: { conversation: WORK('1A'), turn: 0 }, reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/1A.txt', content: 'status: draft\n' } } } },
    { name: '1A-done', match: { conversation: WORK('1A'), turn: 1, last_user: 'File created successfully' }, reply: '1A.txt is written.' },
    {
      name: '1A-read',
      match: { conversation: WORK('1A'), turn: 2, last_user: '1A.txt:status: draft' },
      reply: { text: 'The check wants status: ready.', tool_use: { name: 'Read', input: { file_path: '{{cwd}}/1A.txt' } } },
    },
    {
      name: '1A-edit',
      match: { conversation: WORK('1A'), turn: 3, last_user: 'status: draft' },
      reply: { tool_use: { name: 'Edit', input: { file_path: '{{cwd}}/1A.txt', old_string: 'status: draft', new_string: 'status: ready' } } },
    },
    { name: '1A-fixed', match: { conversation: WORK('1A'), turn: 4, last_user: 'updated successfully' }, reply: '1A.txt now says status: ready.' },
    // 1B and 1C add the same file with different content.
    { name: '1B-write', match: { conversation: WORK('1B'), turn: 0 }, reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/notes.txt', content: 'from 1B\n' } } } },
    { name: '1B-done', match: { conversation: WORK('1B'), turn: 1, last_user: 'File created successfully' }, reply: 'notes.txt is written.' },
    { name: '1C-write', match: { conversation: WORK('1C'), turn: 0 }, reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/notes.txt', content: 'from 1C\n' } } } },
    { name: '1C-done', match: { conversation: WORK('1C'), turn: 1, last_user: 'File created successfully' }, reply: 'notes.txt is written.' },
  ],
};

describe('e2e: a check that fails then passes, and a merge conflict resolved by an agent (review off)', () => {
  let e2e: E2E;
  let result: OrchestratorResult;
  let state: any;
  const eol = '\r\n';
  const user = userTasksMd(eol);

  beforeAll(async () => {
    e2e = await setupE2E({
      milestones: {
        '1A': milestone('1A', 'Ready flag', 'Create 1A.txt with the line `status: ready`', 'the check passes', [CHECK_1A]),
        // Each side's check needs its own line: they pass on the merged result only if the resolution kept both.
        '1B': milestone('1B', 'Notes from 1B', 'Add the line `from 1B` to notes.txt', 'notes.txt has the line', ['grep -q "from 1B" notes.txt']),
        '1C': milestone('1C', 'Notes from 1C', 'Add the line `from 1C` to notes.txt', 'notes.txt has the line', ['grep -q "from 1C" notes.txt']),
      },
      files: { 'TASKS.md': user.document },
      scenario: MERGE_SCENARIO,
      config: { max_parallel_tasks: 3, review: { enabled: false } },
    });
    result = await e2e.run();
    state = readState(e2e.repo.root);
  }, 90_000);
  afterAll(() => e2e?.cleanup());

  it('completes: all three done and merged, exit 0, every request scripted', () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(unexpected(e2e.server)).toEqual([]);
    expect(state.status).toBe('completed');
    for (const id of ['1A', '1B', '1C']) expect(state.tasks[id]).toMatchObject({ status: 'done', merged: true });
    // No review: no request ever offered StructuredOutput.
    expect(e2e.server.requests.filter((r) => isAgentTurn(r) && view(r).toolNames.includes('StructuredOutput'))).toEqual([]);
    // 5 agent processes: 1A worker + remediation, 1B, 1C, the resolver (booked on 1C, the branch being merged).
    expect(Object.values(state.tasks).flatMap((t: any) => t.transcripts.map((f: string) => path.basename(f))).sort()).toEqual([
      '1A.agent-1.jsonl',
      '1A.agent-2.jsonl',
      '1B.agent-1.jsonl',
      '1C.agent-1.jsonl',
      '1C.resolve-2.jsonl',
    ]);
  });

  it('(d) 1A: the failed check\'s command and output go to the resumed worker session; the second round passes', () => {
    const rec = state.tasks['1A'];
    const work = requestsOf(e2e, WORK('1A'));
    expect(ruleNames(work)).toEqual(['1A-write', '1A-done', '1A-read', '1A-edit', '1A-fixed']);
    const fix = work[2]!;
    expect(sessionHeader(fix)).toBe(sessionHeader(work[0]!));
    expect(sessionHeader(fix)).toBe(rec.sessionId);
    expect(view(fix).lastUserText).toBe(
      [
        'The work on milestone 1A: Ready flag is not accepted yet.',
        '',
        'These checks failed:',
        `- \`${CHECK_1A}\` exited with 1:`,
        '```',
        '1A.txt:status: draft',
        '```',
        '',
        'Fix all of this in this worktree; the orchestrator commits your changes when you finish.',
      ].join('\n'),
    );
    expect(rec.rounds).toHaveLength(2);
    expect(rec.rounds[0]).toMatchObject({ round: 1, checks: [{ command: CHECK_1A, ok: false, exitCode: 1, outputTail: '1A.txt:status: draft' }], findings: [] });
    expect(rec.rounds[0].verdict).toBeUndefined();
    expect(rec.rounds[1]).toMatchObject({ round: 2, checks: [{ command: CHECK_1A, ok: true, exitCode: 0 }] });
    expect(rec.rounds[1].verdict).toBeUndefined();
    expect(e2e.repo.git('show', 'main:1A.txt')).toBe('status: ready');
  });

  it('(e) 1C: the conflict goes to an agent in the merge worktree; the merge keeps both sides; conflictResolved', () => {
    const { git, root } = e2e.repo;
    const resolver = requestsOf(e2e, RESOLVE);
    expect(ruleNames(resolver)).toEqual(['resolve-read', 'resolve-write', 'resolve-done']);
    expect(view(resolver[0]!).cwd).toBe(defaultPaths(root).mergeWorktree);
    const prompt = promptOf(resolver[0]!);
    expect(prompt.startsWith(`${RESOLVE} in this worktree. The branch \`milestone/1C\` (milestone 1C: Notes from 1C)`)).toBe(true);
    expect(prompt).toContain('merged before it: 1A (Ready flag), 1B (Notes from 1B).');
    expect(prompt).toContain('Conflicted files: notes.txt');
    // A fresh session of its own, not 1C's worker.
    expect(sessionHeader(resolver[0]!)).not.toBe(state.tasks['1C'].sessionId);

    expect(state.tasks['1C'].conflictResolved).toBe(true);
    expect(state.tasks['1A'].conflictResolved).toBeUndefined();
    expect(state.tasks['1B'].conflictResolved).toBeUndefined();
    expect(readFileSync(path.join(root, 'notes.txt'), 'utf8')).toBe('from 1B\nfrom 1C\n');
    expect(git('show', 'main:notes.txt')).toBe('from 1B\nfrom 1C');
    // The resolved merge is a real two-parent merge of 1C's branch, the last of the stage, and main is the result.
    expect(git('log', '--merges', '--first-parent', '--format=%s', 'main').split('\n').reverse()).toEqual([
      'Merge milestone 1A: Ready flag',
      'Merge milestone 1B: Notes from 1B',
      'Merge milestone 1C: Notes from 1C',
    ]);
    expect(git('rev-parse', 'main^2')).toBe(git('rev-parse', 'milestone/1C'));
    expect(git('rev-parse', 'main')).toBe(state.stages[0].mergedSha);
  });

  it('TASKS.md: rounds and checks per task; the user\'s CRLF text around the block kept byte for byte', () => {
    const block = expectUserTextKept(e2e.repo.root, user, eol);
    expect(block).toContain('Status: **completed** · 3/3 tasks done');
    // Review is off: the rounds column counts quality-gate rounds, with no verdict.
    expect(rowCells(block, '1A')).toEqual({ status: '✅ done', rounds: '2', cost: 'spent' });
    expect(rowCells(block, '1B')).toEqual({ status: '✅ done', rounds: '1', cost: 'spent' });
    expect(rowCells(block, '1C')).toEqual({ status: '✅ done', rounds: '1', cost: 'spent' });
    expect(e2e.repo.git('status', '--porcelain')).toBe('M TASKS.md');
  });
});
