import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { orchestratorDataDir } from '../../src/config/data-dir.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/**
 * Credentials in the environment must never be written anywhere the orchestrator writes: logs, transcripts, the
 * state file, TASKS.md, metrics, the terminal. The fake agent prints them every way an agent can (a command's
 * output, its own text, stderr, its result and error messages); then every file under the repository is searched.
 */
let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function secrets() {
  return {
    apiKey: `sk-ant-api03-${randomBytes(30).toString('base64url')}`,
    // Not shaped like a key: only its value can identify it.
    oauthToken: randomBytes(24).toString('hex'),
  };
}

/** Every file under `root`, as [relative path, bytes]. */
function allFiles(root: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push([path.relative(root, full), readFileSync(full)]);
    }
  };
  walk(root);
  return out;
}

function expectNowhere(root: string, values: string[], outputs: Record<string, string>): void {
  // The repository, and outside it the worktrees and logs (`logs/…` relative to their folder).
  const dataDir = orchestratorDataDir(root, process.env);
  const files = [...allFiles(root), ...(existsSync(dataDir) ? allFiles(dataDir) : [])];
  // The places that must exist for the search to mean something.
  const names = files.map(([name]) => name);
  expect(names).toContain('TASKS.md');
  expect(names).toContain(path.join('.orchestrator', 'run-state.json'));
  expect(names.some((n) => /^logs\/orchestrator_.*\.log$/.test(n))).toBe(true);
  expect(names.some((n) => /^logs\/run-[^/]+\/1A\.agent-1\.jsonl$/.test(n))).toBe(true);
  for (const value of values) {
    const leaks = files.filter(([, bytes]) => bytes.includes(value)).map(([name]) => name);
    expect(leaks, `files holding a secret`).toEqual([]);
    for (const [stream, text] of Object.entries(outputs)) expect(text.includes(value), `${stream} holds a secret`).toBe(false);
  }
}

describe('secrets in the environment', () => {
  it('appear in no file and no output, whatever the agent prints', async () => {
    const { apiKey, oauthToken } = secrets();
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          {
            match: 'milestone 1A:',
            run: {
              steps: [
                { bash: 'echo "key=$ANTHROPIC_API_KEY token=$CLAUDE_CODE_OAUTH_TOKEN"; env' },
                { text: `I found the key ${apiKey} and the token ${oauthToken}.` },
                { stderr: `debug: using ${apiKey} / ${oauthToken}` },
                { write: '1A.txt', content: '1A\n' },
              ],
              resultText: `Done with ${apiKey}.`,
            },
          },
          {
            match: 'milestone 1B:',
            run: { steps: [{ bash: 'printenv ANTHROPIC_API_KEY CLAUDE_CODE_OAUTH_TOKEN' }], result: 'error', resultText: `Invalid API key ${apiKey} (token ${oauthToken})` },
          },
        ],
      },
      { retry_attempts: 0 },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: { ...repo.env, ANTHROPIC_API_KEY: apiKey, CLAUDE_CODE_OAUTH_TOKEN: oauthToken } });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    // The agents really printed them: the redacted forms are there, in the transcript and the failure reason.
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('done');
    expect(state.tasks['1B'].status).toBe('failed');
    expect(state.tasks['1B'].reason).toMatch(/Invalid API key/);
    expect(readFileSync(path.join(repo.root, state.tasks['1A'].transcripts[0]), 'utf8')).toMatch(/key=\S*redacted/i);
    expectNowhere(repo.root, [apiKey, oauthToken], { stdout: result.stdout, stderr: result.stderr });
  });

  it('appear neither in failing checks output nor in the --json stream', async () => {
    const { apiKey, oauthToken } = secrets();
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      { rules: [{ match: 'milestone 1A:', run: { steps: [{ bash: 'echo "$ANTHROPIC_API_KEY"' }, { write: '1A.txt', content: '1A\n' }] } }] },
      { retry_attempts: 0, review: { enabled: false, max_rounds: 1 }, checks: { commands: ['echo "check sees $ANTHROPIC_API_KEY and $CLAUDE_CODE_OAUTH_TOKEN"; exit 1'] } },
    );
    cleanup = repo.cleanup;
    const result = await runCli(['--json'], { cwd: repo.root, env: { ...repo.env, ANTHROPIC_API_KEY: apiKey, CLAUDE_CODE_OAUTH_TOKEN: oauthToken } });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stderr).toBe(1);
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('needs_attention');
    expect(state.tasks['1A'].rounds[0].checks[0].outputTail).toMatch(/check sees/);
    expectNowhere(repo.root, [apiKey, oauthToken], { stdout: result.stdout, stderr: result.stderr });
  });
});
