import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { orchestratorDataDir } from '../../src/config/data-dir.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';

/**
 * Issue 14 part 3: values of agent.env (whatever their names), secret-looking variables such as GH_PAT, the
 * password in a DATABASE_URL and well-known token shapes must reach no file the run writes and no output.
 */
let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const hex = (n: number) => randomBytes(n).toString('hex');
const alnum = (n: number) => randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);

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

describe('secrets are redacted by value and by shape everywhere the run writes', () => {
  it('agent.env values, GH_PAT, a DATABASE_URL password and token shapes appear in no file, log, state, TASKS.md, metrics, NDJSON or terminal output', async () => {
    const agentEnvValue = hex(16); // a name that does not look secret: only its value identifies it
    const pat = hex(20);
    const dbPassword = hex(12);
    const shapes = [
      `ghp_${alnum(36)}`,
      `github_pat_${alnum(22)}_${alnum(59)}`,
      `npm_${alnum(36)}`,
      `AKIA${alnum(16).toUpperCase().replace(/[^A-Z0-9]/g, 'Q')}`,
      `AIza${alnum(35)}`,
      `xoxb-${hex(6)}-${hex(6)}-${alnum(24)}`,
      `sk-proj-${alnum(40)}`,
    ];
    const bearer = alnum(40);
    const all = [agentEnvValue, pat, dbPassword, ...shapes, bearer];
    const echo = 'echo "s=$MY_SETTING p=$GH_PAT d=$DATABASE_URL"; env';
    const said = `I found ${shapes.join(' and ')} and Authorization: Bearer ${bearer}`;
    const repo = makeEngineRepo(
      {
        '1A': milestone('1A'),
        '1B': milestone('1B', { frontMatter: `checks: ['echo "check sees $GH_PAT at $DATABASE_URL $SAMPLE_VALUE"; exit 1']` }),
        '1C': milestone('1C'),
      },
      {
        rules: [
          {
            match: 'milestone 1A:',
            run: { steps: [{ bash: echo }, { text: said }, { stderr: said }, { write: '1A.txt', content: '1A\n' }], resultText: `Done: ${said}` },
          },
          { match: 'milestone 1B:', run: { steps: [{ write: '1B.txt', content: '1B\n' }] } },
          { match: 'milestone 1C:', run: { steps: [{ bash: echo }], result: 'error', resultText: `Failed with ${agentEnvValue} ${pat} ${dbPassword} ${said}` } },
        ],
      },
      { retry_attempts: 0, review: { enabled: false, max_rounds: 1 }, agent: { env: { MY_SETTING: agentEnvValue } } },
    );
    cleanup = repo.cleanup;
    // SAMPLE_VALUE: a name that does not look secret, holding a token only its shape gives away.
    const env = { ...repo.env, GH_PAT: pat, DATABASE_URL: `postgres://app:${dbPassword}@localhost:5432/app`, SAMPLE_VALUE: shapes[0]! };
    const result = await runCli(['--json'], { cwd: repo.root, env });
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stderr).toBe(1);

    // The secrets were really printed, so their redacted forms are where they would have been.
    const state = readState(repo.root);
    expect(state.tasks['1A'].status).toBe('done');
    expect(state.tasks['1B'].status).toBe('needs_attention');
    expect(state.tasks['1C'].status).toBe('failed');
    expect(state.tasks['1C'].reason).toContain('[REDACTED:agent.env.MY_SETTING]');
    expect(state.tasks['1B'].rounds[0].checks[0].outputTail).toMatch(/postgres:\/\/app:\[REDACTED[^\]]*\]@localhost/);
    const transcript = readFileSync(path.join(repo.root, state.tasks['1A'].transcripts[0]), 'utf8');
    expect(transcript).toContain('[REDACTED:agent.env.MY_SETTING]');
    expect(transcript).toContain('[REDACTED:GH_PAT]');
    expect(transcript).toContain('[REDACTED:github token]');

    // Everything under the repository (logs, transcripts, .orchestrator, TASKS.md, metrics, worktrees), except the
    // configuration the user wrote the agent.env value into (and its checkouts in the worktrees).
    // The worktrees and logs are outside the repository by default: searched too (`logs/…` relative to their folder).
    const dataDir = orchestratorDataDir(repo.root, process.env);
    const files = [...allFiles(repo.root), ...allFiles(dataDir)].filter(([name]) => path.basename(name) !== 'orchestrator.config.json');
    const names = files.map(([n]) => n);
    expect(names).toContain('TASKS.md');
    expect(names).toContain(path.join('logs', 'metrics.json'));
    expect(names.some((n) => /^logs\/orchestrator_.*\.log$/.test(n))).toBe(true);
    for (const value of all) {
      expect(files.filter(([, bytes]) => bytes.includes(value)).map(([n]) => n), `files holding ${value}`).toEqual([]);
      expect(result.stdout.includes(value), `NDJSON holds ${value}`).toBe(false);
      expect(result.stderr.includes(value), `stderr holds ${value}`).toBe(false);
    }
    // status prints what the state holds: still nothing secret.
    const status = await runCli(['status', '--json'], { cwd: repo.root, env });
    for (const value of all) expect(status.stdout.includes(value)).toBe(false);
  });
});

describe('secrets in neighbouring forms', () => {
  it('an agent.env value URL-encoded, and a secret in a milestone title, reach neither the transcript nor git history', async () => {
    const value = `tok+en/${hex(6)}=chars&more`; // URL-encoding changes it
    const token = `ghp_${alnum(36)}`;
    const repo = makeEngineRepo(
      { '1A': milestone('1A').replace('# Milestone 1A - Task 1A', `# Milestone 1A - Task with ${value} and ${token}`) },
      { rules: [{ match: 'milestone 1A:', run: { steps: [{ text: `encoded: ${encodeURIComponent(value)}` }, { write: '1A.txt', content: '1A\n' }] } }] },
      { agent: { env: { MY_SETTING: value } } },
    );
    cleanup = repo.cleanup;
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stderr).toBe(0);
    const logs = path.join(orchestratorDataDir(repo.root, process.env), 'logs'); // worktrees hold the user's own files
    const written = allFiles(logs).map(([, b]) => b.toString('utf8')).join('\n');
    expect(written).toContain('encoded: [REDACTED:agent.env.MY_SETTING]');
    // The orchestrator's own commits (leftovers, merges) name the title: redacted there too.
    const history = repo.git('log', '--format=%B', 'main');
    expect(history).toContain('[REDACTED:agent.env.MY_SETTING]');
    for (const secret of [value, encodeURIComponent(value), token]) {
      expect(history).not.toContain(secret);
      expect(written).not.toContain(secret);
    }
  });
});
