import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { milestoneMarkdown, type TaskSpec } from './plan-gen.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CLI = path.join(ROOT, 'dist/cli/bin.js');
export const FAKE_AGENT = path.join(ROOT, 'tests/support/fake-agent.mjs');

const GIT_ENV = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } }).trim();
}

export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}

export interface BenchRepo {
  root: string;
  /** The fake agent's NDJSON log. */
  log: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** The fake agent takes `duration` ms (a sleep), then writes its file; the orchestrator commits it. */
export function sleepThenWrite(specs: readonly TaskSpec[]): object {
  return {
    rules: specs.map((t) => ({
      match: `milestone ${t.id}:`,
      run: { steps: [...(t.duration > 0 ? [{ sleep: t.duration }] : []), { write: `${t.id}.txt`, content: `${t.id}\n` }] },
    })),
  };
}

/** A git repository with the specs as milestone files and a config that runs the fake agent. */
export function makeBenchRepo(specs: readonly TaskSpec[], script: object, config: Record<string, unknown> = {}): BenchRepo {
  const base = tempDir('mo-bench-');
  const root = path.join(base, 'repo');
  mkdirSync(path.join(root, 'milestones'), { recursive: true });
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'config', 'user.name', 'Bench');
  git(root, 'config', 'user.email', 'bench@example.com');
  git(root, 'config', 'commit.gpgsign', 'false');
  writeFileSync(path.join(root, 'README.md'), '# bench\n');
  for (const t of specs) writeFileSync(path.join(root, 'milestones', `${t.id}.md`), milestoneMarkdown(t));
  const full = { max_parallel_tasks: 8, review: { enabled: false }, resources: { enabled: false }, ...config, agent: { command: [process.execPath, FAKE_AGENT] } };
  writeFileSync(path.join(root, 'orchestrator.config.json'), `${JSON.stringify(full, null, 2)}\n`);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'milestones');
  const scriptFile = path.join(base, 'script.json');
  const log = path.join(base, 'agent.ndjson');
  writeFileSync(scriptFile, JSON.stringify(script));
  return {
    root,
    log,
    env: { FAKE_AGENT_SCRIPT: scriptFile, FAKE_AGENT_LOG: log, ANTHROPIC_API_KEY: 'sk-bench-dummy-key-000' },
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

export interface ProcSample {
  /** Epoch ms. */
  at: number;
  /** utime + stime of the process itself (all its threads, none of its children), ms. */
  cpuMs: number;
  rssBytes: number;
}

export interface CliRun {
  exitCode: number;
  wallMs: number;
  stdout: string;
  stderr: string;
  /** Epoch ms at spawn and at exit. */
  startedAt: number;
  endedAt: number;
  samples: ProcSample[];
}

const CLK_TCK = Number(safe(() => execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) ?? 100) || 100;
const PAGE = Number(safe(() => execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) ?? 4096) || 4096;

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** One reading of /proc/<pid>/stat: fields 14-15 (utime, stime, clock ticks) and 24 (rss, pages). */
export function readProcStat(pid: number): ProcSample | undefined {
  const text = safe(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { at: Date.now(), cpuMs: (ticks * 1000) / CLK_TCK, rssBytes: Number(fields[21]) * PAGE };
}

/** Runs the built CLI as its own process; with `sampleMs`, reads its /proc stat that often while it runs. */
export function runCli(args: readonly string[], opts: { cwd: string; env?: Record<string, string>; sampleMs?: number; timeoutMs?: number; nodeArgs?: string[] }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['LOG_LEVEL', 'AUTO_RESUME', 'ORCHESTRATOR_CONFIG']) delete env[name];
    Object.assign(env, { CI: 'true' }, opts.env);
    const startedAt = Date.now();
    const t0 = performance.now();
    // BENCH_CPU_PROF=<dir>: every CLI run writes a V8 CPU profile there (bench/profile.ts summarises them).
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
    const child = spawn(process.execPath, [...prof, ...(opts.nodeArgs ?? []), CLI, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const samples: ProcSample[] = [];
    const sample = (): void => {
      if (child.pid === undefined) return;
      const s = readProcStat(child.pid);
      if (s) samples.push(s);
    };
    const timer = opts.sampleMs ? setInterval(sample, opts.sampleMs) : undefined;
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - t0;
      if (timer) clearInterval(timer);
      clearTimeout(killer);
      child.on('close', () => resolve({ exitCode: code ?? -1, wallMs, stdout, stderr, startedAt, endedAt: Date.now(), samples }));
    });
    if (opts.sampleMs) sample();
  });
}

export interface AgentRecord {
  event: string;
  key: string | null;
  time: number;
}

export function readAgentLog(file: string): AgentRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AgentRecord);
}

/** The id a fake-agent log record belongs to (its rule's match is `milestone <id>:`). */
export function idOfKey(key: string | null): string | undefined {
  return key?.match(/^milestone (\w+):$/)?.[1];
}

export interface StateTask {
  status: string;
  stage: number;
  startedAt?: string;
  finishedAt?: string;
  merged?: boolean;
}

export interface RunStateView {
  status: string;
  startedAt: string;
  finishedAt?: string;
  tasks: Record<string, StateTask>;
}

export function readRunState(root: string): RunStateView {
  return JSON.parse(readFileSync(path.join(root, '.orchestrator', 'run-state.json'), 'utf8')) as RunStateView;
}

/** Fails loudly when a benchmark run did not do the work it claims to time. */
export function assertCompleted(run: CliRun, root: string, count: number): RunStateView {
  const state = readRunState(root);
  const done = Object.values(state.tasks).filter((t) => t.status === 'done' && t.merged).length;
  if (run.exitCode !== 0 || state.status !== 'completed' || done !== count) {
    throw new Error(`the orchestrator run failed (exit ${run.exitCode}, ${state.status}, ${done}/${count} merged):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  }
  return state;
}

export const ms = (iso: string | undefined): number => (iso ? Date.parse(iso) : Number.NaN);

export interface GcEvent {
  /** ms since the process started. */
  atMs: number;
  /** Live heap right after a full (mark-compact) collection, MB. */
  liveMb: number;
  /** Heap reserved after it, MB. */
  committedMb: number;
}

/** Full collections from `node --trace-gc` output: the live heap after each is the honest memory figure. */
export function parseTraceGc(stdout: string): GcEvent[] {
  const events: GcEvent[] = [];
  for (const line of stdout.split('\n')) {
    const m = /\s(\d+) ms: Mark-Compact(?: \([^)]*\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
    if (m) events.push({ atMs: Number(m[1]), liveMb: Number(m[2]), committedMb: Number(m[3]) });
  }
  return events;
}
