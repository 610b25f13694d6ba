import { execa, type ResultPromise } from 'execa';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { claudeTestEnv } from '../../src/scripted-api/claude-env.js';
import { viewRequest, type RequestView } from '../../src/scripted-api/request-view.js';
import type { ScenarioInput } from '../../src/scripted-api/scenario.js';
import { startScriptedServer, type ScriptedServer } from '../../src/scripted-api/server.js';
import type { RecordedRequest } from '../../src/scripted-api/types.js';
import { isPidAlive, signalGroup } from '../../src/util/process.js';
import { CLI } from '../support/cli.js';
import { makeRepo, type TempRepo } from '../support/git-repo.js';

/**
 * End-to-end runs: the built orchestrator CLI (a separate process) drives the REAL `claude` CLI (the pinned
 * devDependency) against the scripted Messages API server running in the test process. Every `claude` process costs
 * about 2 CPU-seconds to start on this 2-core machine, so scenarios are short and plans small.
 */

/** The pinned Claude Code CLI. Named explicitly (agent.command) so a different `claude` on PATH cannot change results. */
export const CLAUDE_BIN = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

export interface E2E {
  repo: TempRepo;
  /** The agents' HOME: Claude Code keeps its sessions here, so a resume must see the same one. */
  home: string;
  server: ScriptedServer;
  /** The orchestrator's environment (built by claudeTestEnv; it passes it down to every agent). */
  env: NodeJS.ProcessEnv;
  /** Resolves with the first request (already seen or future) that satisfies `predicate`; rejects after `timeoutMs`. */
  waitForRequest(predicate: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Starts the orchestrator without waiting for it. */
  start(args?: string[]): ResultPromise;
  /** Runs the orchestrator to its end. */
  run(args?: string[]): Promise<OrchestratorResult>;
  cleanup(): Promise<void>;
}

export interface OrchestratorResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface E2EOptions {
  milestones: Record<string, string>;
  scenario: ScenarioInput;
  /** Merged over the defaults below (agent settings merged key by key). */
  config?: Record<string, unknown>;
  /**
   * Leave agent.command unset so the orchestrator finds the pinned CLI itself (no `claude` on PATH, so its own
   * node_modules/.bin/claude). PATH is cut down to git and node to make sure no other `claude` is found first.
   */
  findClaude?: boolean;
  /** Other files of the repository (path relative to its root), committed with the milestones and the config. */
  files?: Record<string, string>;
  /** Authenticate the agents as a subscription (CLAUDE_CODE_OAUTH_TOKEN): needed for usage-limit faults. */
  oauth?: boolean;
}

export async function setupE2E(opts: E2EOptions): Promise<E2E> {
  const repo = makeRepo();
  const home = `${repo.root}-home`;
  mkdirSync(home);
  for (const [id, text] of Object.entries(opts.milestones)) repo.write(`milestones/${id}.md`, text);
  for (const [file, text] of Object.entries(opts.files ?? {})) repo.write(file, text);
  const extra = opts.config ?? {};
  const config = {
    max_parallel_tasks: 2,
    review: { enabled: false },
    resources: { enabled: false },
    ...extra,
    agent: { ...(opts.findClaude ? {} : { command: [CLAUDE_BIN] }), ...((extra.agent as object | undefined) ?? {}) },
  };
  repo.write('orchestrator.config.json', `${JSON.stringify(config, null, 2)}\n`);
  repo.commit('milestones and config');

  const listeners = new Set<(r: RecordedRequest) => void>();
  const server = await startScriptedServer({ scenario: opts.scenario, onRequest: (r) => listeners.forEach((l) => l(r)) });
  const env: NodeJS.ProcessEnv = {
    ...claudeTestEnv({ serverUrl: server.url, home, ...(opts.oauth ? { oauth: true } : {}) }),
    CI: 'true',
  };
  // Settings of the developer's shell must not steer the orchestrator either.
  for (const name of ['LOG_LEVEL', 'AUTO_RESUME', 'ORCHESTRATOR_CONFIG']) delete env[name];
  if (opts.findClaude) env.PATH = minimalPath(`${repo.root}-bin`);

  const children: ResultPromise[] = [];
  const start = (args: string[] = []) => {
    // extendEnv: false, or execa would add back the ANTHROPIC_* / CLAUDE_* variables claudeTestEnv removed.
    const child = execa(process.execPath, [CLI, ...args], { cwd: repo.root, env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 90_000 });
    children.push(child);
    return child;
  };

  return {
    repo,
    home,
    server,
    env,
    waitForRequest: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const seen = server.requests.find(predicate);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no matching request within ${timeoutMs} ms; saw ${describeRequests(server.requests)}`));
        }, timeoutMs);
        const listener = (r: RecordedRequest) => {
          if (!predicate(r)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(r);
        };
        listeners.add(listener);
      }),
    start,
    run: async (args = []) => {
      const r = await start(args);
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    cleanup: async () => {
      for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
      await Promise.allSettled(children);
      stopLeftoverAgents(repo.root);
      await server.close();
      repo.cleanup();
      rmSync(home, { recursive: true, force: true });
      rmSync(`${repo.root}-bin`, { recursive: true, force: true });
    },
  };
}

/** A folder with only `git` and `node` in it, for PATH. */
function minimalPath(dir: string): string {
  mkdirSync(dir);
  const git = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  symlinkSync(git, path.join(dir, 'git'));
  symlinkSync(process.execPath, path.join(dir, 'node'));
  // The agents' sandbox (on by default) needs these, for the orchestrator's preflight and for Claude Code itself.
  for (const tool of ['bwrap', 'socat']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}

/** A test that failed half-way may leave an agent the orchestrator started; stop it by its recorded pid. */
function stopLeftoverAgents(root: string): void {
  const file = path.join(root, '.orchestrator', 'run-state.json');
  if (!existsSync(file)) return;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { tasks: Record<string, { agentPid?: number }> };
    for (const t of Object.values(state.tasks)) {
      if (t.agentPid && isPidAlive(t.agentPid)) signalGroup(t.agentPid, 'SIGKILL');
    }
  } catch {
    /* best effort */
  }
}

// ---- reading what the server saw ------------------------------------------------------------------------------------

/** An agent turn (not a side request, count_tokens or probe). */
export function isAgentTurn(r: RecordedRequest): boolean {
  return r.method === 'POST' && r.path.startsWith('/v1/messages?') && !viewRequest(r.body).side;
}

export function view(r: RecordedRequest): RequestView {
  return viewRequest(r.body);
}

/** Agent turns of one milestone's agent: its prompt (and a resumed session's) names `milestone <id>:`. */
export function turnsOf(server: ScriptedServer, id: string): RecordedRequest[] {
  return server.requests.filter((r) => isAgentTurn(r) && view(r).conversationText.includes(`milestone ${id}:`));
}

/** Claude Code names its session in a header of every API request. */
export function sessionHeader(r: RecordedRequest): string | undefined {
  return r.headers['x-claude-code-session-id'];
}

/** Requests nothing in the scenario was written for: an unexpected conversation. */
export function unexpected(server: ScriptedServer): string[] {
  return server.requests
    .filter((r) => !['rule', 'count_tokens', 'hello', 'side'].includes(r.outcome))
    .map((r) => `#${r.seq} ${r.method} ${r.path} ${r.outcome}${r.error ? ` (${r.error})` : ''}: ${view(r).lastUserText.slice(0, 200)}`);
}

export function describeRequests(requests: readonly RecordedRequest[]): string {
  return requests.map((r) => `#${r.seq} ${r.outcome}${r.rule?.name ? `:${r.rule.name}` : ''}`).join(', ') || 'none';
}

// ---- reading what the orchestrator wrote ----------------------------------------------------------------------------

export function readState(root: string): any {
  return JSON.parse(readFileSync(path.join(root, '.orchestrator', 'run-state.json'), 'utf8'));
}

/** The `result` line of an agent transcript (the CLI's raw stdout, kept by the orchestrator). */
export function transcriptResult(root: string, transcript: string): Record<string, any> | undefined {
  const lines = readFileSync(path.join(root, transcript), 'utf8').split('\n');
  for (const line of lines) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as Record<string, any>;
      if (event.type === 'result') return event;
    } catch {
      /* stderr or a partial line */
    }
  }
  return undefined;
}

/** The TASKS.md table row of one task (the line that starts with `| <id> |`). */
export function tasksMdRow(tasksMd: string, id: string): string {
  const row = tasksMd.split('\n').find((l) => l.startsWith(`| ${id} |`));
  if (!row) throw new Error(`TASKS.md has no row for ${id}:\n${tasksMd}`);
  return row;
}

/** Waits, bounded, for the state file to satisfy `predicate` (it is written atomically at every transition). */
export async function waitForState(root: string, predicate: (s: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const file = path.join(root, '.orchestrator', 'run-state.json');
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      try {
        last = JSON.parse(readFileSync(file, 'utf8'));
        if (predicate(last)) return last;
      } catch {
        /* not there yet */
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the state file never reached the expected condition; last: ${JSON.stringify(last)}`);
}

// ---- scenario building blocks ---------------------------------------------------------------------------------------

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** Distinct, recognisable usage numbers per reply, so a field read from the wrong place cannot add up by chance. */
export function usage(seed: number): Usage {
  return { input_tokens: 1000 + seed, output_tokens: 100 + seed, cache_creation_input_tokens: 40 + seed, cache_read_input_tokens: 7 * seed };
}

export function sumUsage(list: Usage[]): { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number } {
  return {
    inputTokens: list.reduce((n, u) => n + u.input_tokens, 0),
    outputTokens: list.reduce((n, u) => n + u.output_tokens, 0),
    cacheCreationInputTokens: list.reduce((n, u) => n + u.cache_creation_input_tokens, 0),
    cacheReadInputTokens: list.reduce((n, u) => n + u.cache_read_input_tokens, 0),
  };
}
