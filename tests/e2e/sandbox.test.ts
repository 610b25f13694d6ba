import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readState, setupE2E, transcriptResult, turnsOf, unexpected, view, type E2E, type OrchestratorResult } from './harness.js';

/**
 * The agents' sandbox with the DEFAULT configuration (agent.sandbox "auto"; only agent.command is set, by the
 * harness), the real `claude` CLI and real bubblewrap. Two agent processes:
 * - 1A builds and tests in its worktree (`node build.js`, `npm test`) with no tool listed anywhere, then runs the
 *   shapes of shell command Claude Code's analyser cannot check (a loop over a variable, a file written then checked,
 *   a brace group with a redirect), which it denied before the orchestrator allowed the Bash tool: done and merged.
 *   Its test file tries to write HOME: that fails wherever it runs (the agent's shell, the check, the reviewer). The
 *   repository's pre-commit hook stages a file and tries to write HOME: the file is committed, HOME is untouched.
 * - 1B tries to leave its worktree: writes into the main checkout, the repository's .git, HOME and a temp folder
 *   outside the worktree, reads ~/.ssh, and connects to a loopback server. Nothing changes and nothing leaks; the
 *   task itself is done (refusals are tool errors it sees, counted in the state).
 */

const SECRET = 'SSH-PRIVATE-KEY-sandbox-e2e-9f3c1';

function milestoneText(id: string, title: string, frontMatter?: string): string {
  return [
    ...(frontMatter ? ['---', frontMatter, '---'] : []),
    `# Milestone ${id} - ${title}`,
    '',
    '## Tasks',
    `1. ${title}`,
    '',
    '## Exit Criteria',
    '- done',
    '',
    '## Estimated Time',
    '10 min',
    '',
  ].join('\n');
}

const PACKAGE_JSON = JSON.stringify({ name: 'sandboxed', version: '1.0.0', private: true, scripts: { test: 'node --test' } }, null, 2);
const BUILD_JS = "require('node:fs').mkdirSync('dist', { recursive: true });\nrequire('node:fs').writeFileSync('dist/out.txt', 'built\\n');\nconsole.log('BUILD-OK');\n";
const TEST_JS = [
  "const test = require('node:test');",
  "const assert = require('node:assert');",
  // What a tester did to show checks ran agent code as the user: write into HOME from the test file.
  "try { require('node:fs').writeFileSync(require('node:path').join(require('node:os').homedir(), 'pwned-by-check.txt'), 'x'); } catch {}",
  "test('built', () => assert.equal(require('node:fs').readFileSync('dist/out.txt', 'utf8'), 'built\\n'));",
  '',
].join('\n');
/** Stages a file named after the branch (so both tasks' stamps merge), and tries to write HOME. */
const PRE_COMMIT = [
  '#!/bin/sh',
  'echo pwned > "$HOME/pwned-by-hook.txt"',
  'b=$(git rev-parse --abbrev-ref HEAD | tr / _)',
  'mkdir -p hook-stamps && echo "$b" > "hook-stamps/$b.txt" && git add "hook-stamps/$b.txt"',
  '',
].join('\n');
/** The commands Claude Code 2.1.330 refused in the sandbox until the Bash tool was allowed outright. */
const UNCHECKABLE = {
  loop: 'for f in test/*.js; do node --test "$f"; done',
  writeThenCheck: `echo "console.log('GEN-OK')" > gen.js && node --check gen.js && node gen.js`,
  braceGroup: '{ node --version; npm test; } 2>&1',
};

describe('e2e: agents in the sandbox (default configuration, real bubblewrap)', () => {
  let e2e: E2E;
  let result: OrchestratorResult;
  let state: any;
  let outside: string;
  let loopback: Server;
  let loopbackHits = 0;
  let mainHead: string;

  beforeAll(async () => {
    loopback = createServer((_req, res) => {
      loopbackHits++;
      res.end('LOOPBACK-REACHED');
    });
    await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
    const port = (loopback.address() as AddressInfo).port;

    e2e = await setupE2E({
      milestones: { '1A': milestoneText('1A', 'Build and test', 'checks: ["npm test"]'), '1B': milestoneText('1B', 'Stay inside', 'review: false') },
      scenario: { rules: [] },
      config: { review: { enabled: true, max_rounds: 1 } },
    });
    const root = e2e.repo.root;
    outside = `${root}-outside`;
    mkdirSync(outside);
    mkdirSync(path.join(e2e.home, '.ssh'), { mode: 0o700 });
    writeFileSync(path.join(e2e.home, '.ssh', 'id_ed25519'), `${SECRET}\n`, { mode: 0o600 });
    mainHead = e2e.repo.git('rev-parse', 'main');
    writeFileSync(path.join(root, '.git', 'hooks', 'pre-commit'), PRE_COMMIT, { mode: 0o755 });

    const attempts = [
      `echo pwned > '${root}/escaped-main.txt'`,
      `echo pwned > '${root}/.git/refs/heads/escaped'`,
      `echo pwned > "$HOME/escaped-home.txt"`,
      `echo pwned > '${outside}/escaped-tmp.txt'`,
      `cat "$HOME/.ssh/id_ed25519"`,
      `ls -A "$HOME/.ssh"`,
      `node -e "fetch('http://127.0.0.1:${port}/').then(r => r.text()).then(t => console.log('GOT', t), e => console.log('NETFAIL', e.cause ? e.cause.code : e.message))"`,
      `echo "KEY=[\${ANTHROPIC_API_KEY:-unset}]"`,
    ].map((c) => `${c} 2>&1; echo "rc=$?"`);
    e2e.server.setScenario({
      rules: [
        // 1A's reviewer (its prompt also names "milestone 1A:", so it comes first): runs the tests, tries to write.
        {
          name: '1A-review-test',
          match: { conversation: 'reviewing the work done for milestone 1A:', turn: 0 },
          reply: { tool_use: { name: 'Bash', input: { command: 'npm test', description: 'Run the tests' } } },
        },
        {
          name: '1A-review-touch',
          match: { conversation: 'reviewing the work done for milestone 1A:', turn: 1, last_user: '# pass 1' },
          reply: { tool_use: { name: 'Bash', input: { command: 'touch reviewer-was-here.txt', description: 'Try to write' } } },
        },
        {
          name: '1A-review-verdict',
          match: { conversation: 'reviewing the work done for milestone 1A:', turn: 2 },
          reply: { verdict: 'approve', summary: 'Built and tested; the tests pass here too.' },
        },
        // 1A: write a tiny project, build it and run its tests in the worktree.
        {
          name: '1A-write',
          match: { conversation: 'milestone 1A:', turn: 0 },
          reply: {
            tool_use: [
              { name: 'Write', input: { file_path: '{{cwd}}/package.json', content: `${PACKAGE_JSON}\n` } },
              { name: 'Write', input: { file_path: '{{cwd}}/build.js', content: BUILD_JS } },
              { name: 'Write', input: { file_path: '{{cwd}}/test/built.test.js', content: TEST_JS } },
            ],
          },
        },
        {
          name: '1A-build-test',
          match: { conversation: 'milestone 1A:', turn: 1, last_user: 'File created successfully' },
          reply: { tool_use: { name: 'Bash', input: { command: 'node build.js && npm test 2>&1 | tail -n 12', description: 'Build and test' } } },
        },
        {
          name: '1A-loop',
          match: { conversation: 'milestone 1A:', turn: 2, last_user: { regex: 'BUILD-OK[\\s\\S]*# pass 1' } },
          reply: { tool_use: { name: 'Bash', input: { command: UNCHECKABLE.loop, description: 'Each test file' } } },
        },
        {
          name: '1A-write-then-check',
          match: { conversation: 'milestone 1A:', turn: 3 },
          reply: { tool_use: { name: 'Bash', input: { command: UNCHECKABLE.writeThenCheck, description: 'Generate and check' } } },
        },
        {
          name: '1A-brace-group',
          match: { conversation: 'milestone 1A:', turn: 4 },
          reply: { tool_use: { name: 'Bash', input: { command: UNCHECKABLE.braceGroup, description: 'Version and tests' } } },
        },
        { name: '1A-done', match: { conversation: 'milestone 1A:', turn: 5 }, reply: 'Built and tested.' },
        // 1B: every way out, in one shell call; then its own file.
        {
          name: '1B-escape',
          match: { conversation: 'milestone 1B:', turn: 0 },
          reply: { tool_use: { name: 'Bash', input: { command: attempts.join('\n'), description: 'Try to leave the worktree' } } },
        },
        {
          name: '1B-write',
          match: { conversation: 'milestone 1B:', turn: 1 },
          reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/1B.txt', content: 'inside\n' } } },
        },
        { name: '1B-done', match: { conversation: 'milestone 1B:', turn: 2, last_user: 'File created successfully' }, reply: 'Stayed inside.' },
      ],
    });
    result = await e2e.run();
    state = readState(root);
  }, 120_000);

  afterAll(async () => {
    await e2e?.cleanup();
    if (outside) rmSync(outside, { recursive: true, force: true });
    await new Promise((resolve) => loopback?.close(resolve));
  });

  it('runs to the end with both tasks done and merged, no prompt, nothing unscripted', () => {
    expect(result.exitCode, result.stderr).toBe(0);
    expect(unexpected(e2e.server)).toEqual([]);
    for (const id of ['1A', '1B']) expect(state.tasks[id]).toMatchObject({ status: 'done', merged: true });
  });

  it('1A built and tested in its worktree without a tool list: the build output is on main, its check passed', () => {
    const turns = turnsOf(e2e.server, '1A').filter((r) => !r.rule?.name?.includes('review'));
    expect(turns.map((r) => r.rule?.name)).toEqual(['1A-write', '1A-build-test', '1A-loop', '1A-write-then-check', '1A-brace-group', '1A-done']);
    const toolResult = view(turns[2]!).lastUserText;
    expect(toolResult).toContain('BUILD-OK');
    expect(toolResult).toMatch(/# pass 1/);
    expect(e2e.repo.git('show', 'main:dist/out.txt')).toBe('built');
    expect(state.tasks['1A'].rounds.at(-1).checks).toEqual([expect.objectContaining({ command: 'npm test', ok: true })]);
  });

  it('1A ran a loop over a variable, a file written then checked and a brace group: no denial, each gave its output', () => {
    const turns = turnsOf(e2e.server, '1A').filter((r) => !r.rule?.name?.includes('review'));
    expect(view(turns[3]!).lastUserText).toMatch(/# pass 1/);
    expect(view(turns[4]!).lastUserText).toContain('GEN-OK');
    expect(view(turns[5]!).lastUserText).toMatch(/v\d+\.\d+[\s\S]*# pass 1/);
    const worker = (state.tasks['1A'].transcripts as string[]).find((t) => !t.includes('review'))!;
    expect(transcriptResult(e2e.repo.root, worker)?.permission_denials).toEqual([]);
    expect(e2e.repo.git('show', 'main:gen.js')).toContain('GEN-OK');
    // npm ran five times in the sandbox (worker and reviewer) and never tried to reach its registry: the one refusal
    // counted is the reviewer's touch.
    expect(state.tasks['1A'].sandboxRefusals).toBe(1);
  });

  it("1A's test file could not write HOME: not from the agent's shell, not from the check, not from the reviewer's shell", () => {
    expect(state.tasks['1A'].rounds.at(-1).checks).toEqual([expect.objectContaining({ command: 'npm test', ok: true })]);
    expect(existsSync(path.join(e2e.home, 'pwned-by-check.txt'))).toBe(false);
  });

  it('the pre-commit hook ran sandboxed for both commits: its staged files are on main, its write into HOME failed', () => {
    const files = e2e.repo.git('ls-tree', '-r', '--name-only', 'main').split('\n');
    expect(files.filter((f) => f.startsWith('hook-stamps/'))).toHaveLength(2);
    expect(existsSync(path.join(e2e.home, 'pwned-by-hook.txt'))).toBe(false);
  });

  it("1A's reviewer ran the project's tests in the sandbox but could not write in the worktree", () => {
    const review = e2e.server.requests.filter((r) => r.rule?.name?.startsWith('1A-review'));
    expect(review.map((r) => r.rule?.name)).toEqual(['1A-review-test', '1A-review-touch', '1A-review-verdict']);
    expect(view(review[1]!).lastUserText).toContain('# pass 1');
    expect(view(review[2]!).lastUserText).toContain('Read-only file system');
    const reviewTranscript = (state.tasks['1A'].transcripts as string[]).find((t) => t.includes('1A.review-'))!;
    expect(transcriptResult(e2e.repo.root, reviewTranscript)?.permission_denials).toEqual([]);
    expect(state.tasks['1A'].rounds.at(-1).verdict).toBe('approve');
    expect(e2e.repo.git('ls-tree', '-r', '--name-only', 'main')).not.toContain('reviewer-was-here.txt');
    expect(existsSync(path.resolve(e2e.repo.root, state.tasks['1A'].worktree, 'reviewer-was-here.txt'))).toBe(false);
  });

  it('1B changed nothing outside its worktree: main checkout, .git, HOME and the outside temp folder', () => {
    const root = e2e.repo.root;
    expect(existsSync(path.join(root, 'escaped-main.txt'))).toBe(false);
    expect(existsSync(path.join(root, '.git', 'refs', 'heads', 'escaped'))).toBe(false);
    expect(existsSync(path.join(e2e.home, 'escaped-home.txt'))).toBe(false);
    expect(readdirSync(outside)).toEqual([]);
    // main moved only by the orchestrator's merges, from the head the test saw.
    expect(e2e.repo.git('merge-base', '--is-ancestor', mainHead, 'main')).toBe('');
    const escapeResult = view(turnsOf(e2e.server, '1B')[1]!).lastUserText;
    expect(escapeResult.match(/Read-only file system/g)?.length).toBe(4);
    expect(state.tasks['1B'].sandboxRefusals).toBeGreaterThanOrEqual(4);
  });

  it('1B learned nothing: ~/.ssh looked empty, the API key was not in its environment, the loopback server was not reached', () => {
    const escapeResult = view(turnsOf(e2e.server, '1B')[1]!).lastUserText;
    expect(escapeResult).toContain('NETFAIL');
    expect(escapeResult).toContain('KEY=[unset]');
    expect(loopbackHits).toBe(0);
    // Neither the model (every request body) nor the logs ever saw the key's content.
    for (const r of e2e.server.requests) expect(JSON.stringify(r.body)).not.toContain(SECRET);
    for (const t of state.tasks['1B'].transcripts as string[]) expect(readFileSync(path.resolve(e2e.repo.root, t), 'utf8')).not.toContain(SECRET);
    expect(readFileSync(path.join(e2e.home, '.ssh', 'id_ed25519'), 'utf8')).toBe(`${SECRET}\n`);
  });

  it('status and TASKS.md count the refusals', () => {
    const tasksMd = readFileSync(path.join(e2e.repo.root, 'TASKS.md'), 'utf8');
    const row = tasksMd.split('\n').find((l) => l.startsWith('| 1B |'));
    expect(row).toMatch(/\d+ sandbox refusals/);
  });
});
