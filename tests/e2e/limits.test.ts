import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/scripted-api/types.js';
import { isPidAlive } from '../../src/util/process.js';
import { milestone } from '../support/engine-fixture.js';
import { defaultPaths } from '../support/paths.js';
import {
  isAgentTurn,
  readState,
  sessionHeader,
  setupE2E,
  transcriptResult,
  turnsOf,
  unexpected,
  usage,
  view,
  waitForState,
  type E2E,
  type OrchestratorResult,
} from './harness.js';

/**
 * Usage and rate limits, the run lock and Ctrl-C with the real claude CLI (tests/engine/limits.test.ts and
 * signals.test.ts cover the same with a fake agent). 8 agent processes, plus one `claude --version` per orchestrator
 * start (4): 12 claude processes in all.
 */

/** The prompt the orchestrator continues a session with after a limit (src/run/agent-call.ts). */
const CONTINUE_AFTER_LIMIT = 'when a usage or rate limit stopped you';

/** A task that writes its file and finishes: 2 turns. */
function okRules(id: string, seed: number, match: Record<string, unknown> = { turn: 0 }) {
  return [
    {
      name: `${id}-write`,
      match: { conversation: `milestone ${id}:`, ...match },
      reply: { tool_use: { name: 'Write', input: { file_path: `{{cwd}}/${id}.txt`, content: `made by ${id}\n` } }, usage: usage(seed) },
    },
    { name: `${id}-done`, match: { conversation: `milestone ${id}:`, last_user: 'File created successfully' }, reply: { text: `${id} is done.`, usage: usage(seed + 1) } },
  ];
}

/** Timestamped lines of the orchestrator's log file (logs/orchestrator_*.log). */
function logLines(root: string): Array<{ time: number; text: string }> {
  const dir = defaultPaths(root).logDir;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^orchestrator_.*\.log$/.test(f)) : [];
  return files
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .map((line) => /^(\S+) \S+\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && !Number.isNaN(Date.parse(m[1]!)))
    .map((m) => ({ time: Date.parse(m[1]!), text: m[2]! }))
    .sort((a, b) => a.time - b.time);
}

function logTime(root: string, pattern: RegExp): number {
  const line = logLines(root).find((l) => pattern.test(l.text));
  if (!line) throw new Error(`no log line matches ${pattern}:\n${logLines(root).map((l) => l.text).join('\n')}`);
  return line.time;
}

/** The agent turns that opened a session: the first request the server saw with each session header. */
function sessionStarts(requests: readonly RecordedRequest[]): RecordedRequest[] {
  const seen = new Set<string | undefined>();
  return requests.filter((r) => {
    if (!isAgentTurn(r) || seen.has(sessionHeader(r))) return false;
    seen.add(sessionHeader(r));
    return true;
  });
}

/** The events of a transcript (the CLI's stdout, kept by the orchestrator). */
function transcriptEvents(root: string, transcript: string): Array<Record<string, any>> {
  return readFileSync(path.join(root, transcript), 'utf8')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });
}

// ---- 1. a usage limit mid-stage ---------------------------------------------------------------------------------------

describe('e2e: a subscription usage limit pauses the whole run, then the same session continues', () => {
  let e2e: E2E;
  let release: string;
  let limitRequest: RecordedRequest;
  let atPause: any;
  let whileStillPaused: any;
  let result: OrchestratorResult;
  let state: any;

  beforeAll(async () => {
    e2e = await setupE2E({
      oauth: true,
      milestones: { '1A': milestone('1A'), '1B': milestone('1B'), '1C': milestone('1C') },
      config: { max_parallel_tasks: 2, agent: { allowed_tools: ['Bash'] } },
      scenario: {
        rules: [
          // 1A's first request is refused: the 5-hour window is used up until 2 s from now. Once only.
          { name: '1A-limit', times: 1, match: { conversation: 'milestone 1A:', turn: 0 }, reply: { fault: { kind: 'usage_limit', resets_in: 2 } } },
          // After the reset, the same session goes on: the server sees the continuation prompt.
          ...okRules('1A', 1, { last_user: CONTINUE_AFTER_LIMIT }),
          // 1B runs through the pause: its tool waits until the test sees the pause, then 1B finishes inside it.
          {
            name: '1B-wait',
            match: { conversation: 'milestone 1B:', turn: 0 },
            reply: {
              tool_use: {
                name: 'Bash',
                input: {
                  command: 'for i in $(seq 600); do [ -f "$RELEASE" ] && break; sleep 0.05; done; [ -f "$RELEASE" ] && printf "made by 1B\\n" > 1B.txt',
                  description: 'Wait for the release, then write 1B.txt',
                },
              },
              usage: usage(3),
            },
          },
          { name: '1B-done', match: { conversation: 'milestone 1B:', turn: 1 }, reply: { text: '1B is done.', usage: usage(4) } },
          ...okRules('1C', 5),
        ],
      },
    });
    release = path.join(e2e.home, 'release-1B');
    // The Bash tool inherits the agent's environment, which is the orchestrator's.
    e2e.env.RELEASE = release;
    const run = e2e.start();
    limitRequest = await e2e.waitForRequest((r) => r.rule?.name === '1A-limit', 30_000);
    atPause = await waitForState(e2e.repo.root, (s) => s.pause !== undefined, 15_000);
    writeFileSync(release, '');
    // 1B finishes inside the pause: a slot is free, 1C is next, and still nothing may start.
    whileStillPaused = await waitForState(e2e.repo.root, (s) => s.tasks['1B'].status === 'done' || s.pause === undefined, 15_000);
    const r = await run;
    result = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    state = readState(e2e.repo.root);
  }, 60_000);
  afterAll(() => e2e?.cleanup());

  it('the CLI reported a usage limit with its reset time, and the run paused until then', () => {
    expect(limitRequest.status).toBe(429);
    const events = transcriptEvents(e2e.repo.root, state.tasks['1A'].transcripts[0]);
    const limit = events.find((e) => e.type === 'rate_limit_event');
    expect(limit?.rate_limit_info).toMatchObject({ status: 'rejected', rateLimitType: 'five_hour' });
    const resetsAt = (limit!.rate_limit_info.resetsAt as number) * 1000;
    expect(resetsAt).toBeGreaterThan(Date.parse(limitRequest.time));
    expect(transcriptResult(e2e.repo.root, state.tasks['1A'].transcripts[0])).toMatchObject({ is_error: true });
    const until = Date.parse(atPause.pause.until);
    expect(until).toBeGreaterThanOrEqual(resetsAt);
    expect(until).toBeLessThanOrEqual(resetsAt + 10_000);
    expect(atPause.pause.reason).toMatch(/^1A: usage_limit: /);
    // At the pause 1A and 1B had started (1B still works), 1C was waiting for a slot.
    expect(atPause.tasks['1B']).toMatchObject({ status: 'running', attempts: 1 });
    expect(atPause.tasks['1C']).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('starts no agent between the pause and its deadline, even with a free slot and a task waiting', () => {
    const until = Date.parse(atPause.pause.until);
    // 1B finished while the run was still paused, and 1C had not been started.
    expect(whileStillPaused.pause?.until).toBe(atPause.pause.until);
    expect(whileStillPaused.tasks['1B'].status).toBe('done');
    expect(whileStillPaused.tasks['1C'].attempts).toBe(0);
    // No agent process was spawned from the pause to its deadline: the orchestrator's own log says when it starts one.
    const root = e2e.repo.root;
    const pausedAt = logTime(root, /pausing the run until \S+: 1A: usage_limit/);
    const spawned = logLines(root).filter((l) => /\] (agent|review|resolve) (started|resuming session)/.test(l.text));
    expect(spawned.filter((l) => l.time >= pausedAt && l.time < until).map((l) => l.text)).toEqual([]);
    expect(logTime(root, /\[1C\] agent started/)).toBeGreaterThanOrEqual(until);
    expect(logTime(root, /\[1A\] agent resuming session/)).toBeGreaterThanOrEqual(until);
    // The server agrees: a session that opened inside the pause can only be 1B's, whose agent started before it.
    const limitAt = Date.parse(limitRequest.time);
    const opened = sessionStarts(e2e.server.requests).filter((r) => Date.parse(r.time) > limitAt && Date.parse(r.time) < until);
    expect(opened.map((r) => r.rule?.name).filter((name) => name !== '1B-wait')).toEqual([]);
    expect(logTime(root, /\[1B\] agent started/)).toBeLessThan(pausedAt);
    const c = turnsOf(e2e.server, '1C');
    expect(c.length).toBeGreaterThan(0);
    expect(Date.parse(c[0]!.time)).toBeGreaterThanOrEqual(until);
  });

  it('continues the same claude session after the reset, with the conversation replayed', () => {
    const session = sessionHeader(limitRequest)!;
    const a = turnsOf(e2e.server, '1A');
    expect(a.map((r) => r.rule?.name)).toEqual(['1A-limit', '1A-write', '1A-done']);
    expect(a.map(sessionHeader)).toEqual([session, session, session]);
    const resumed = a[1]!;
    expect(Date.parse(resumed.time)).toBeGreaterThanOrEqual(Date.parse(atPause.pause.until));
    const messages = (resumed.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    const firstUser = messages.find((m) => m.role === 'user');
    expect(JSON.stringify(firstUser)).toContain('You are working on milestone 1A: Task 1A');
    expect(view(resumed).lastUserText).toContain(CONTINUE_AFTER_LIMIT);
    expect(state.tasks['1A']).toMatchObject({ status: 'done', merged: true, attempts: 2, sessionId: session });
    expect(state.tasks['1A'].transcripts).toHaveLength(2);
  });

  it('completes the run', () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(unexpected(e2e.server)).toEqual([]);
    expect(state.status).toBe('completed');
    expect(state.pause).toBeUndefined();
    for (const id of ['1A', '1B', '1C']) {
      expect(state.tasks[id]).toMatchObject({ status: 'done', merged: true });
      expect(readFileSync(path.join(e2e.repo.root, `${id}.txt`), 'utf8')).toBe(`made by ${id}\n`);
    }
    expect(state.tasks['1B'].attempts).toBe(1);
    expect(state.tasks['1C'].attempts).toBe(1);
  });
});

// ---- 2. a 429 storm ---------------------------------------------------------------------------------------------------

describe('e2e: a storm of 429s outlasts the CLI retries; the orchestrator backs off and continues the session', () => {
  /** More 429s than one CLI process makes requests (1 + CLAUDE_CODE_MAX_RETRIES=2): two processes give up. */
  const STORM = 6;
  let e2e: E2E;
  let result: OrchestratorResult;
  let state: any;

  beforeAll(async () => {
    e2e = await setupE2E({
      milestones: { '1A': milestone('1A') },
      config: { claude_rate_limit_wait: 0.2, retry_attempts: 3 },
      scenario: {
        rules: [
          { name: '1A-429', times: STORM, match: { conversation: 'milestone 1A:' }, reply: { fault: 429 } },
          ...okRules('1A', 1, { last_user: CONTINUE_AFTER_LIMIT }),
        ],
      },
    });
    result = await e2e.run();
    state = readState(e2e.repo.root);
  }, 60_000);
  afterAll(() => e2e?.cleanup());

  it('every 429 was answered to the same session, and the CLI gave up twice', () => {
    const a = turnsOf(e2e.server, '1A');
    expect(a.map((r) => r.rule?.name)).toEqual([...Array<string>(STORM).fill('1A-429'), '1A-write', '1A-done']);
    expect(new Set(a.map(sessionHeader)).size).toBe(1);
    const rec = state.tasks['1A'];
    expect(rec.transcripts).toHaveLength(3);
    for (const t of rec.transcripts.slice(0, 2)) {
      expect(transcriptResult(e2e.repo.root, t)).toMatchObject({ is_error: true, api_error_status: 429 });
      // Each process made its own retries first.
      const retries = transcriptEvents(e2e.repo.root, t).filter((e) => e.type === 'system' && e.subtype === 'api_retry');
      expect(retries).toHaveLength(2);
    }
    expect(transcriptResult(e2e.repo.root, rec.transcripts[2])).toMatchObject({ is_error: false, session_id: rec.sessionId });
  });

  it('the orchestrator retried twice, each after its own backoff, and the task completed', () => {
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(unexpected(e2e.server)).toEqual([]);
    // attempts counts agent processes: the first try and two orchestrator-level retries.
    expect(state.tasks['1A']).toMatchObject({ status: 'done', merged: true, attempts: 3 });
    const lines = logLines(e2e.repo.root);
    const pauses = lines.filter((l) => /pausing the run until \S+: 1A: rate_limited: /.test(l.text));
    expect(pauses).toHaveLength(2);
    const resumes = lines.filter((l) => /\[1A\] agent resuming session/.test(l.text));
    expect(resumes).toHaveLength(2);
    for (const [i, p] of pauses.entries()) {
      const until = Date.parse(/pausing the run until (\S+):/.exec(p.text)![1]!);
      // claude_rate_limit_wait 0.2 s, doubled on the second retry, ±20 %.
      expect(until - p.time).toBeGreaterThanOrEqual(0.2 * 1000 * 2 ** i * 0.8 - 50);
      expect(until - p.time).toBeLessThanOrEqual(0.2 * 1000 * 2 ** i * 1.2 + 50);
      expect(resumes[i]!.time).toBeGreaterThanOrEqual(until);
    }
    expect(state.pause).toBeUndefined();
    expect(state.status).toBe('completed');
  });
});

// ---- 3. the lock, then Ctrl-C -----------------------------------------------------------------------------------------

/** Processes (other than zombies) whose working directory is inside `dir`. */
function processesInside(dir: string): Array<{ pid: number; cwd: string; cmd: string }> {
  const out: Array<{ pid: number; cwd: string; cmd: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      out.push({ pid: Number(name), cwd, cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

describe('e2e: one run per repository; Ctrl-C leaves no claude process behind', () => {
  let e2e: E2E;
  let firstPid: number;
  let agentPid: number;
  let inWorktreesWhileRunning: Array<{ pid: number; cwd: string; cmd: string }>;
  let second: OrchestratorResult;
  let lockHolder: any;
  let first: OrchestratorResult;
  let state: any;
  let worktrees: string;

  beforeAll(async () => {
    e2e = await setupE2E({
      milestones: { '1A': milestone('1A') },
      scenario: { rules: [{ name: '1A-hang', match: { conversation: 'milestone 1A:' }, reply: { fault: 'hang' } }] },
    });
    worktrees = defaultPaths(e2e.repo.root).worktreeDir;
    const run = e2e.start();
    firstPid = run.pid!;
    await e2e.waitForRequest((r) => r.rule?.name === '1A-hang', 30_000);
    agentPid = (await waitForState(e2e.repo.root, (s) => s.tasks['1A']?.agentPid > 0, 10_000)).tasks['1A'].agentPid;
    inWorktreesWhileRunning = processesInside(worktrees);
    lockHolder = JSON.parse(readFileSync(path.join(e2e.repo.root, '.orchestrator', 'lock'), 'utf8'));
    second = await e2e.run();
    run.kill('SIGINT');
    const r = await run;
    first = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    state = readState(e2e.repo.root);
  }, 60_000);
  afterAll(() => e2e?.cleanup());

  it('refuses a second run while the first holds the lock: exit 4, naming the holder pid', () => {
    expect(lockHolder.pid).toBe(firstPid);
    expect(second.exitCode, second.stdout + second.stderr).toBe(4);
    expect(second.stdout + second.stderr).toMatch(new RegExp(`another run holds the lock: pid ${firstPid}\\b`));
    // The refused run started no agent: the only session is the first run's.
    expect(new Set(turnsOf(e2e.server, '1A').map(sessionHeader)).size).toBe(1);
    expect(turnsOf(e2e.server, '1A')).toHaveLength(1);
  });

  it('SIGINT: the first run saves its state and exits 130', () => {
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.exitCode, first.stdout + first.stderr).toBe(130);
    expect(state.status).toBe('interrupted');
    expect(state.tasks['1A'].agentPid).toBeUndefined();
    expect(first.stdout).toMatch(/orchestrate --resume/);
  });

  it('no claude process is left: neither the recorded agent nor anything working in a worktree', () => {
    // While it ran, the agent was found working in its worktree (so the check below can see one).
    expect(inWorktreesWhileRunning.map((p) => p.pid)).toContain(agentPid);
    expect(isPidAlive(agentPid)).toBe(false);
    expect(processesInside(worktrees)).toEqual([]);
  });
});
