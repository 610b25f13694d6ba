import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tasksMdRow } from './harness.js';

/**
 * `npm run demo` as a user runs it (minus the build): the built entry, into a temporary folder. 9 claude processes:
 * the preflight's `--version`, 3 workers, 4 reviews and 1B's remediation.
 */

const DEMO = fileURLToPath(new URL('../../dist/demo/demo.js', import.meta.url));

describe('e2e: npm run demo', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mo-demo-'));
  const out = path.join(root, 'demo');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs the example plan with real agents to the end and says where to look', async () => {
    const result = await execa(process.execPath, [DEMO, '--out', out], { reject: false, stdin: 'ignore', timeout: 90_000, env: { CI: 'true' } });
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(result.exitCode, output).toBe(0);
    expect(output).not.toMatch(/has no answer|no rule for|internal error/);
    // With --out the closing hint names that folder (demo-output/ was never made).
    expect(output).toContain(`remove this one with  rm -rf ${out}`);

    const repo = path.join(out, 'repo');
    const tasksMd = readFileSync(path.join(repo, 'TASKS.md'), 'utf8');
    expect(tasksMd).toContain('**completed**');
    expect(tasksMd).toContain('3/3 tasks done');
    for (const id of ['1A', '1B', '2A']) expect(tasksMdRow(tasksMd, id)).toMatch(/\| ✅ done \| \d \(approve\) \| \$\d+\.\d{4} \| /);
    // The review-and-remediation round: 1B sent back once, then approved; the others approved at once.
    expect(tasksMdRow(tasksMd, '1A')).toContain('| 1 (approve) |');
    expect(tasksMdRow(tasksMd, '1B')).toContain('| 2 (approve) |');
    expect(tasksMdRow(tasksMd, '2A')).toContain('| 1 (approve) |');
    const state = JSON.parse(readFileSync(path.join(repo, '.orchestrator', 'run-state.json'), 'utf8'));
    const verdicts = (id: string) => state.tasks[id].rounds.map((r: { verdict: string }) => r.verdict);
    expect(verdicts('1A')).toEqual(['approve']);
    expect(verdicts('1B')).toEqual(['request_changes', 'approve']);
    expect(verdicts('2A')).toEqual(['approve']);
    expect(state.tasks['1B'].rounds[0].findings).toEqual([expect.objectContaining({ severity: 'major', file: 'src/options.js', line: 6 })]);
    for (const id of ['1A', '1B', '2A']) {
      for (const round of state.tasks[id].rounds) expect(round.checks).toEqual([expect.objectContaining({ command: 'node --test test/', ok: true })]);
    }

    // What the agents built works, on main.
    const slug = execFileSync(process.execPath, ['bin/slugger.js', '-s', '_', 'Crème', 'brûlée'], { cwd: repo, encoding: 'utf8' });
    expect(slug.trim()).toBe('creme_brulee');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
    expect(git('log', '--format=%s', 'main').split('\n')).toEqual(
      expect.arrayContaining(['1A: Slug function', '1B: Command-line options', '2A: CLI entry point', 'Merge milestone 2A: CLI entry point']),
    );
    // The agents ran `node --test` with no tool listed in the configuration: in the sandbox, which changed nothing
    // outside their worktrees (the orchestrator committed their work: two commits on 1B, the fix its own).
    expect(JSON.parse(readFileSync(path.join(repo, 'orchestrator.config.json'), 'utf8')).agent).toEqual({ command: [expect.any(String)] });
    expect(git('log', '--format=%s', 'milestone/1B').split('\n').filter((s) => s === '1B: Command-line options')).toHaveLength(2);
    for (const id of ['1A', '1B', '2A']) expect(state.tasks[id].sandboxRefusals).toBeUndefined();
    // The fix the review asked for is in: -h prints the usage.
    expect(execFileSync(process.execPath, ['bin/slugger.js', '-h'], { cwd: repo, encoding: 'utf8' })).toMatch(/^usage: slugger/);

    // Every request was one the scenario planned, each rule in its place.
    type Logged = { outcome: string; rule?: { name?: string }; headers: Record<string, string> };
    const requests = readFileSync(path.join(out, 'api-requests.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Logged);
    expect(requests.filter((r) => r.outcome !== 'rule')).toEqual([]);
    expect(requests).toHaveLength(18);
    const named = (name: string) => requests.filter((r) => r.rule?.name === name);
    for (const name of ['1A-review', '1B-review-1', '1B-review-2', '2A-review', '1B-fix-read', '1B-fix-done']) expect(named(name), name).toHaveLength(1);
    // The remediation continued 1B's own session; each review was a session of its own.
    const session = (name: string) => named(name)[0]!.headers['x-claude-code-session-id'];
    expect(session('1B-fix-read')).toBe(session('1B-write'));
    expect(session('1B-fix-read')).toBe(state.tasks['1B'].sessionId);
    expect(new Set([session('1B-write'), session('1B-review-1'), session('1B-review-2')]).size).toBe(3);

    expect(result.stdout).toContain('Demo finished: 3/3 milestones done and merged into main.');
    expect(result.stdout).toContain('1B  1. checks 1/1 passed · request_changes: -h is not recognised');
    expect(result.stdout).toMatch(/^ {6}2\. checks 1\/1 passed · approve$/m);
    expect(result.stdout).toContain(`git -C ${repo} log --graph --oneline --all`);
    expect(result.stdout).toContain(path.join(repo, 'TASKS.md'));
  }, 90_000);

  it('refuses a folder that is not empty', async () => {
    const used = path.join(root, 'used');
    mkdirSync(used);
    writeFileSync(path.join(used, 'keep.txt'), 'mine\n');
    const result = await execa(process.execPath, [DEMO, '--out', used], { reject: false, stdin: 'ignore', timeout: 30_000 });
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toContain('is not empty');
    expect(readFileSync(path.join(used, 'keep.txt'), 'utf8')).toBe('mine\n');
  });
});
