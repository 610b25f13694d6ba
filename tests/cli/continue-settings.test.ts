import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/** The printed "continue the agent's session by hand" command keeps the run's sandbox (bubblewrap is installed here). */
const workOn = (id: string) => `milestone ${id}:`;
let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function failingTask(config: object) {
  const repo = makeEngineRepo({ '1A': milestone('1A', { frontMatter: 'checks:\n  - test -f never.txt' }) }, { rules: [{ match: workOn('1A'), run: { steps: [{ write: 'a.txt', content: 'a\n' }] } }] }, { review: { enabled: false, max_rounds: 0 }, ...config });
  cleanup = repo.cleanup;
  return repo;
}

describe('continue by hand', () => {
  it('with the sandbox: the command passes the worker’s sandbox settings file, written in the run’s log folder', async () => {
    const repo = failingTask({});
    const run = await runCli([], { cwd: repo.root, env: repo.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    const task = readState(repo.root).tasks['1A'];
    const worktree = path.resolve(repo.root, task.worktree);
    const status = await runCli(['status'], { cwd: repo.root, env: repo.env });
    const command = /continue the agent's session by hand: (.+)$/m.exec(status.stdout)?.[1];
    expect(command, status.stdout).toMatch(new RegExp(`^cd \\S+ && claude --resume ${task.sessionId} --settings (\\S+\\.settings\\.json)$`));
    const file = / --settings (\S+)$/.exec(command!)![1]!;
    expect(path.dirname(file)).toBe(path.dirname(path.resolve(repo.root, task.transcripts.at(-1))));
    const settings = JSON.parse(readFileSync(file, 'utf8'));
    expect(settings.sandbox).toMatchObject({ enabled: true, failIfUnavailable: true, allowUnsandboxedCommands: false });
    // The worker's settings: its worktree is writable (the reviewer's would deny it).
    expect(settings.sandbox.filesystem.denyWrite).not.toContain(worktree);
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain(`--settings ${file}`);
  });

  it('without the sandbox: no settings file and no --settings', async () => {
    const repo = failingTask({ agent: { sandbox: false, allowed_tools: ['Write'] } });
    await runCli([], { cwd: repo.root, env: repo.env });
    const task = readState(repo.root).tasks['1A'];
    const status = await runCli(['status'], { cwd: repo.root, env: repo.env });
    expect(status.stdout).toContain(`claude --resume ${task.sessionId}\n`);
    expect(status.stdout).not.toContain('--settings');
    expect(existsSync(path.join(path.dirname(path.resolve(repo.root, task.transcripts.at(-1))), '1A.settings.json'))).toBe(false);
  });
});
