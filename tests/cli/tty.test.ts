import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { displayWidth } from '../../src/cli/live-view.js';
import { CLI } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/**
 * The live view in a real terminal: the built CLI runs inside tmux (a real pty, stdout.isTTY, CI unset) and the
 * screen is read with `tmux capture-pane` while the fake agents work.
 *
 * tmux is required: without it the test is skipped with a message, unless CI=true, where it fails (CI must
 * install tmux: apt-get install -y tmux).
 */
const HAS_TMUX = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
const IN_CI = process.env.CI === 'true';
if (!HAS_TMUX && !IN_CI) {
  console.warn('tests/cli/tty.test.ts: SKIPPED — tmux is not installed (apt-get install -y tmux). With CI=true this test fails instead.');
}

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** ~2.5 s of agent work per task: a tool call, a pause, a command, a pause, the file. */
const slowWork = (id: string) => ({
  steps: [{ tool: 'Read', input: { file_path: 'README.md' } }, { sleep: 1200 }, { bash: 'true' }, { sleep: 1300 }, { write: `${id}.txt`, content: `${id}\n` }],
});

/**
 * Starts the built CLI in a detached tmux session of `columns` x `rows` in the repository; `screen()` reads the
 * pane, `waitFor` polls it. The command's exit code is printed as __EXIT__<code> when it ends.
 */
function startInTmux(repo: { root: string; env: Record<string, string>; cleanup: () => void }, columns: number, rows: number, setCleanup: (c: () => void) => void) {
  const socket = `mo-tty-${process.pid}-${randomBytes(3).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  // A terminal, not CI: the live view is on.
  for (const name of ['CI', 'LOG_LEVEL', 'AUTO_RESUME', 'ORCHESTRATOR_CONFIG', 'TMUX', 'TMUX_PANE', 'NO_COLOR']) delete env[name];
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env, encoding: 'utf8' });
  setCleanup(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { env, stdio: 'ignore' });
    repo.cleanup();
  });
  const vars = Object.entries(repo.env).map(([k, v]) => `${k}=${quote(v)}`);
  const command = `cd ${quote(repo.root)} && env -u CI ${vars.join(' ')} ${quote(process.execPath)} ${quote(CLI)}; echo "__EXIT__$?"; sleep 120`;
  tmux('new-session', '-d', '-s', 'run', '-x', String(columns), '-y', String(rows), command);
  const screen = () => tmux('capture-pane', '-p', '-J', '-t', 'run');

  /** Polls the screen until `test` passes (or fails after `ms`). */
  async function waitFor(what: string, test: (s: string) => boolean, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    let last = '';
    while (Date.now() < deadline) {
      last = screen();
      if (test(last)) return last;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}; the screen:\n${last}`);
  }
  return { tmux, screen, waitFor };
}

describe('the live view in a real terminal (tmux)', () => {
  it.skipIf(!HAS_TMUX && !IN_CI)('shows the running tasks, updates them, and leaves the final block above the summary', async () => {
    if (!HAS_TMUX) throw new Error('tmux is not installed, and CI=true requires this test to run: install it (apt-get install -y tmux)');
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B'), '2A': milestone('2A', { deps: ['1A'] }) },
      { rules: ['1A', '1B', '2A'].map((id) => ({ match: `milestone ${id}:`, run: slowWork(id) })) },
    );
    const { screen, waitFor } = startInTmux(repo, 150, 45, (c) => (cleanup = c));
    const taskLine = (s: string, id: string) => s.split('\n').find((l) => new RegExp(`^\\s+${id}\\s+Task ${id}\\s+(starting|set-up|agent|commit|checks)`).test(l));
    const elapsedOf = (line: string | undefined) => line?.match(/\s(\d+s|\d+m \d\ds)\s/)?.[1];

    // 1: both stage-1 tasks are on screen with their figures.
    const first = await waitFor('the running tasks 1A and 1B', (s) => taskLine(s, '1A') !== undefined && taskLine(s, '1B') !== undefined);
    expect(first).toMatch(/^orchestrate · stage 1 of 2 · 0\/3 tasks done · \$\d+\.\d{4} · \S+ tokens · \d+s/m);
    for (const id of ['1A', '1B']) {
      expect(taskLine(first, id)).toMatch(new RegExp(`^\\s+${id}\\s+Task ${id}\\s+\\S.*\\s\\d+s\\s+\\d+ turns?\\s+\\S+ tok\\s+\\$\\d+\\.\\d{4}\\s+\\S+$`));
    }
    // The plain log lines are not printed in the live view.
    expect(first).not.toMatch(/\[1A\] agent started/);

    // 2: it moves on its own: 1A's clock ticks (or 1A is already done).
    const before = elapsedOf(taskLine(first, '1A'));
    const second = await waitFor('the view to update', (s) => /✔ 1A done/.test(s) || (elapsedOf(taskLine(s, '1A')) ?? before) !== before, 10_000);
    expect(second).not.toBe(first);

    // 3: stage 2 runs, then the run ends: finished tasks above, the final block, the summary below it.
    const during2 = await waitFor('stage 2 running', (s) => taskLine(s, '2A') !== undefined || /__EXIT__/.test(s));
    if (!/__EXIT__/.test(during2)) expect(during2).toMatch(/stage 2 of 2/);
    const end = await waitFor('the run to end', (s) => /__EXIT__\d+/.test(s), 60_000);
    expect(end, end).toMatch(/__EXIT__0/);
    const lines = end.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    for (const id of ['1A', '1B', '2A']) expect(at(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ✔ ${id} done \\(`)), `${id} done line`).toBeGreaterThanOrEqual(0);
    expect(at(/stage 1: merged 1A, 1B into main/)).toBeGreaterThanOrEqual(0);
    const finalBlock = at(/^orchestrate completed · stage 2 of 2 · 3\/3 tasks done · \$\d+\.\d{4}/);
    const summary = at(/^Run \S+: completed$/);
    expect(finalBlock, end).toBeGreaterThan(at(/✔ 2A done/));
    expect(summary).toBeGreaterThan(finalBlock);
    // No stale task line is left in the final block.
    expect(lines.slice(finalBlock + 1, summary).every((l) => !/^\s+(1A|1B|2A)\s/.test(l))).toBe(true);
    expect(readState(repo.root).status).toBe('completed');
  });

  it.skipIf(!HAS_TMUX && !IN_CI)('fits 80 columns, redraws on a resize without a ghost header, and shows Ctrl-C as interrupted', async () => {
    if (!HAS_TMUX) throw new Error('tmux is not installed, and CI=true requires this test to run: install it (apt-get install -y tmux)');
    const long = (id: string) => milestone(id).replace(`# Milestone ${id} - Task ${id}`, `# Milestone ${id} - A rather long title for task ${id} that cannot fit`);
    const slow = (id: string) => ({ steps: [{ tool: 'Read', input: { file_path: 'README.md' } }, { sleep: 30_000 }, { write: `${id}.txt`, content: `${id}\n` }] });
    const repo = makeEngineRepo({ '1A': long('1A'), '1B': long('1B') }, { rules: ['1A', '1B'].map((id) => ({ match: `milestone ${id}:`, run: slow(id) })) });
    const { tmux, waitFor } = startInTmux(repo, 80, 24, (c) => (cleanup = c));
    const headers = (s: string) => s.split('\n').filter((l) => /^orchestrate\b/.test(l));
    const running = await waitFor('both tasks running', (s) => /^\s+1A\s+A rather/m.test(s) && /^\s+1B\s+A rather/m.test(s));
    // The whole header, elapsed time included; each task line starts with its title and fits.
    expect(headers(running)).toHaveLength(1);
    expect(headers(running)[0]).toMatch(/^orchestrate · stage 1 of 1 · 0\/2 tasks done · \$\d+\.\d{4} · \S+ tokens · \d+s$/);
    for (const line of running.split('\n').filter((l) => /^\s+1[AB]\s/.test(l))) {
      expect(line).toMatch(/^ {2}1[AB] {2}A rather long title.{6,}…?\s+(starting|set-up|agent)\b/);
      expect(displayWidth(line)).toBeLessThanOrEqual(80);
    }

    // Narrower: the terminal re-wraps the old block; the view erases all of it and draws once at 50 columns.
    tmux('resize-window', '-t', 'run', '-x', '50', '-y', '24');
    const narrow = await waitFor('the block redrawn at 50 columns', (s) => headers(s).some((h) => /^orchestrate · (stage 1 of 1 · )?0\/2 tasks done · \d+s$/.test(h) && !/\$/.test(h)));
    expect(headers(narrow), narrow).toHaveLength(1);
    expect(narrow.split('\n').filter((l) => /^\s+1A\s/.test(l)), narrow).toHaveLength(1);
    for (const line of narrow.split('\n')) expect(displayWidth(line.trimEnd())).toBeLessThanOrEqual(50);

    // Again, narrower still, a few times in a row: each redraw (the 1 s timer may come before Node's SIGWINCH; the
    // view asks the terminal its size) leaves exactly one header, however the resize and the timer interleave.
    for (const width of [44, 36]) {
      tmux('resize-window', '-t', 'run', '-x', String(width), '-y', '24');
      await waitFor(`the block redrawn at ${width} columns`, (s) => headers(s).length >= 1 && s.split('\n').every((l) => displayWidth(l.trimEnd()) <= width));
      await sleep(1500); // past the next timer tick
      const settled = await waitFor(`the block at ${width} columns`, (s) => s.split('\n').every((l) => displayWidth(l.trimEnd()) <= width));
      expect(headers(settled), settled).toHaveLength(1);
    }

    // Ctrl-C: the tasks are interrupted, not failed; the exit code is 130.
    tmux('send-keys', '-t', 'run', 'C-c');
    const end = await waitFor('the run to stop', (s) => /__EXIT__\d+/.test(s), 60_000);
    expect(end, end).toMatch(/__EXIT__130/);
    expect(end).toMatch(/■ 1A interrupted/);
    expect(end).not.toMatch(/✖ 1[AB] failed/);
    expect(end).toMatch(/^\s+1A\s+interrupted\s*$/m);
    expect(end).toMatch(/Continue with: orchestrate --resume/);
  });
});
