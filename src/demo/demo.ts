#!/usr/bin/env node
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { claudeTestEnv } from '../scripted-api/claude-env.js';
import { ScenarioError } from '../scripted-api/scenario.js';
import { startScriptedServer } from '../scripted-api/server.js';
import type { RecordedRequest } from '../scripted-api/types.js';

/**
 * `npm run demo`: the orchestrator runs a small plan (examples/demo/milestones) in a fresh sandbox repository with
 * real Claude Code agents. No key and no network: the model is the scripted Messages API server
 * (examples/demo/scenario.yaml), started here in-process. See examples/demo/README.md.
 */

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = path.join(PACKAGE_ROOT, 'examples', 'demo');
const CLI = path.join(PACKAGE_ROOT, 'dist', 'cli', 'bin.js');
/** The CLI version the scenario was written against: pinned, so a different `claude` on PATH cannot break the demo. */
const CLAUDE = path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'claude');

const USAGE = `usage: npm run demo [-- --out <dir>]

Runs the example plan in examples/demo/ with real Claude Code agents against a scripted model.
  --out <dir>   where to create the sandbox (must be empty or absent); default demo-output/<timestamp>/`;

interface Layout {
  out: string;
  /** `--out` was given: the closing hint names that folder, not demo-output/. */
  custom: boolean;
  /** The sandbox project the agents work on. */
  repo: string;
  /** HOME of the agents: Claude Code's settings, sessions and scratch files. */
  home: string;
  /** Every request the scripted model answered, one JSON line each. */
  requestLog: string;
}

async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv);
  if (typeof args === 'number') return args;
  const layout = makeLayout(args.out);
  const missing = [CLI, CLAUDE].filter((f) => !existsSync(f));
  if (missing.length > 0) return fail(`missing ${missing.join(' and ')}: run \`npm ci\` (which also builds) in ${PACKAGE_ROOT} first`);
  if (existsSync(layout.out) && readdirSync(layout.out).length > 0) return fail(`${layout.out} is not empty; choose another --out`);

  const git = createSandbox(layout);
  if (typeof git === 'string') return fail(git);

  const unplanned: RecordedRequest[] = [];
  let server;
  try {
    server = await startScriptedServer({
      scenario: path.join(EXAMPLE, 'scenario.yaml'),
      logFile: layout.requestLog,
      onRequest: (r) => {
        if (r.outcome !== 'unmatched' && r.outcome !== 'bad_request' && r.outcome !== 'unknown_route') return;
        unplanned.push(r);
        say(`demo: the scripted model got a request it has no answer for (#${r.seq} ${r.method} ${r.path}: ${r.outcome}${r.error ? `, ${r.error}` : ''})`);
      },
    });
  } catch (err) {
    return fail(err instanceof ScenarioError ? err.message : `could not start the scripted model: ${(err as Error).message}`);
  }

  say(banner(layout, server.url));
  let code: number;
  try {
    code = await runOrchestrator(layout, server.url);
  } finally {
    await server.close();
  }
  return report(layout, code, unplanned.length);
}

function parseCommandLine(argv: string[]): { out?: string } | number {
  try {
    const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return values.out === undefined ? {} : { out: values.out };
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
}

function makeLayout(outOption: string | undefined): Layout {
  const out = path.resolve(outOption ?? path.join(PACKAGE_ROOT, 'demo-output', timestamp(new Date())));
  return { out, custom: outOption !== undefined, repo: path.join(out, 'repo'), home: path.join(out, 'home'), requestLog: path.join(out, 'api-requests.ndjson') };
}

function timestamp(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}_${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}`;
}

/** A git repository with the example project, its plan and a config; returns a problem, if any. */
function createSandbox(layout: Layout): string | undefined {
  mkdirSync(layout.repo, { recursive: true });
  mkdirSync(layout.home, { recursive: true });
  cpSync(path.join(EXAMPLE, 'project'), layout.repo, { recursive: true });
  cpSync(path.join(EXAMPLE, 'milestones'), path.join(layout.repo, 'milestones'), { recursive: true });
  const config = {
    max_parallel_tasks: 2,
    // The quality gate: the project's tests must pass in each worktree, then a second Claude Code session reviews
    // the diff (the scenario scripts the reviewers too: 1B is sent back once).
    checks: { commands: ['node --test test/'] },
    review: { enabled: true, max_rounds: 2 },
    // A busy machine would only delay the demo's tiny agents.
    resources: { enabled: false },
    // Outside the repository (as by default), but inside the demo's folder, so one rm -rf removes everything.
    worktrees: { dir: '../worktrees' },
    logging: { log_dir: '../logs' },
    // No hand-listed tools: the agents' shell commands (`node --test`) run in Claude Code's sandbox (agent.sandbox,
    // on by default), allowed without a prompt, confined to each task's worktree, with no network.
    agent: { command: [CLAUDE] },
  };
  writeFileSync(path.join(layout.repo, 'orchestrator.config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const steps = [
    ['init', '-q'],
    ['symbolic-ref', 'HEAD', 'refs/heads/main'],
    // The demo repository's own identity: the orchestrator commits the agents' work as this user, and the user's
    // signing setup stays out of it.
    ['config', 'user.name', 'Demo User'],
    ['config', 'user.email', 'demo@example.com'],
    ['config', 'commit.gpgsign', 'false'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'slugger: project skeleton and milestone plan'],
  ];
  for (const step of steps) {
    const r = spawnSync('git', step, { cwd: layout.repo, encoding: 'utf8' });
    if (r.error) return `git could not be started (${r.error.message}); install git`;
    if (r.status !== 0) return `git ${step.join(' ')} failed in ${layout.repo}: ${r.stderr.trim()}`;
  }
  return undefined;
}

function runOrchestrator(layout: Layout, serverUrl: string): Promise<number> {
  const env = claudeTestEnv({ serverUrl, home: layout.home });
  // The demo's own config must be the one used.
  delete env.ORCHESTRATOR_CONFIG;
  return new Promise((resolve) => {
    // Output streams straight through. Ctrl-C reaches the orchestrator too (same process group): it stops its
    // agents and saves its state, and we wait for that instead of dying first.
    const child = spawn(process.execPath, [CLI], { cwd: layout.repo, env, stdio: ['ignore', 'inherit', 'inherit'] });
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', ignore);
    const done = (code: number) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
      resolve(code);
    };
    child.on('error', (err) => {
      say(`demo: could not start the orchestrator: ${err.message}`);
      done(70);
    });
    child.on('close', (code, signal) => done(code ?? (signal ? 128 : 70)));
  });
}

function banner(layout: Layout, serverUrl: string): string {
  return [
    '',
    'milestone-orchestrator demo',
    `  sandbox repository  ${layout.repo}`,
    `  plan                ${path.join(layout.repo, 'milestones')}  (stage 1: 1A and 1B in parallel; stage 2: 2A needs both)`,
    `  quality gate        \`node --test test/\` in each worktree, then a read-only review session per task (1B's reviewer asks for a fix once)`,
    `  scripted model      ${serverUrl}  (examples/demo/scenario.yaml; requests logged to ${layout.requestLog})`,
    `  agents              ${CLAUDE}  (real Claude Code, HOME=${layout.home})`,
    '',
    `$ cd ${layout.repo} && orchestrate`,
    '',
  ].join('\n');
}

interface RoundSummary {
  round: number;
  verdict?: string;
  summary?: string;
  checks: Array<{ ok: boolean }>;
  findings: Array<{ severity: string; file?: string; line?: number; message: string }>;
}

interface TaskSummary {
  id: string;
  title: string;
  status: string;
  merged?: boolean;
  branch: string;
  transcripts: string[];
  rounds?: RoundSummary[];
}

function report(layout: Layout, code: number, unplanned: number): number {
  const stateFile = path.join(layout.repo, '.orchestrator', 'run-state.json');
  const state = existsSync(stateFile)
    ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { status: string; logDir: string; tasks: Record<string, TaskSummary> })
    : undefined;
  const tasks = state ? Object.values(state.tasks) : [];
  const allDone = tasks.length > 0 && tasks.every((t) => t.status === 'done' && t.merged);
  const gitC = `git -C ${quote(layout.repo)}`;
  const lines = ['', '─'.repeat(100), ''];
  if (code === 0 && allDone) {
    lines.push(`Demo finished: ${tasks.length}/${tasks.length} milestones done and merged into main.`);
    const tried = spawnSync(process.execPath, ['bin/slugger.js', 'Hello, Milestone Orchestrator!'], { cwd: layout.repo, encoding: 'utf8' });
    if (tried.status === 0) lines.push('', `The agents' program works:  node bin/slugger.js "Hello, Milestone Orchestrator!"  →  ${tried.stdout.trim()}`);
    lines.push('', 'Quality gate, round by round (checks, then a review in a separate read-only session):', ...tasks.flatMap(reviewLines));
  } else {
    lines.push(`Demo did not finish cleanly: the orchestrator exited ${code}${state ? `, run ${state.status}` : ''}.`);
    for (const t of tasks) lines.push(`  ${t.id} ${t.status}${t.merged ? ' (merged)' : ''}`);
  }
  if (unplanned > 0) lines.push(`The scripted model got ${unplanned} request(s) its scenario has no rule for; see ${layout.requestLog}.`);
  const graph = spawnSync('git', ['log', '--graph', '--oneline', '--all'], { cwd: layout.repo, encoding: 'utf8' });
  lines.push(
    '',
    'Where to look:',
    `  progress table      ${path.join(layout.repo, 'TASKS.md')}`,
    `  history             ${gitC} log --graph --oneline --all`,
    `  branches            ${gitC} branch      (one per milestone: ${tasks.map((t) => t.branch).join(', ')})`,
    `  one agent's work    ${gitC} show milestone/1A`,
    ...remediated(tasks, gitC),
    `  agent transcripts   ${state ? path.join(layout.repo, state.logDir) : path.join(layout.out, 'logs')}  (Claude Code's stream-json output, one file per agent run)`,
    `  orchestrator log    ${path.join(layout.out, 'logs')}/orchestrator_*.log`,
    `  run state           ${stateFile}`,
    `  model requests      ${layout.requestLog}  (what Claude Code sent to the scripted model)`,
    `  worktrees           ${path.join(layout.out, 'worktrees')}  (kept for inspection)`,
    '',
    `${gitC} log --graph --oneline --all`,
    graph.stdout.trimEnd(),
    '',
    layout.custom
      ? `Run it again with  npm run demo  (a new folder each time); remove this one with  rm -rf ${layout.out}`
      : `Run it again with  npm run demo  (a new folder each time); remove old ones with  rm -rf ${path.join(PACKAGE_ROOT, 'demo-output')}`,
    '',
  );
  say(lines.join('\n'));
  if (code !== 0) return code;
  return allDone ? 0 : 1;
}

/** `  1B  1. checks 1/1 passed · request_changes: summary`, its findings, then `      2. … · approve`. */
function reviewLines(t: TaskSummary): string[] {
  const rounds = t.rounds ?? [];
  if (rounds.length === 0) return [`  ${t.id}  no quality-gate round`];
  return rounds.flatMap((r, i) => {
    const passed = r.checks.filter((c) => c.ok).length;
    const checks = r.checks.length === 0 ? 'no checks' : `checks ${passed}/${r.checks.length} passed`;
    const verdict = r.verdict ? `${r.verdict}${r.verdict === 'approve' || !r.summary ? '' : `: ${r.summary}`}` : 'not reviewed';
    return [
      `  ${i === 0 ? t.id : ' '.repeat(t.id.length)}  ${r.round}. ${checks} · ${verdict}`,
      ...r.findings.map((f) => `         [${f.severity}] ${f.file ? `${f.file}${f.line ? `:${f.line}` : ''}: ` : ''}${f.message}`),
    ];
  });
}

/** Where to see a task that was sent back: its branch (the fix is a commit of its own) and its agent runs in order. */
function remediated(tasks: TaskSummary[], gitC: string): string[] {
  const t = tasks.find((task) => (task.rounds?.length ?? 0) > 1);
  if (!t) return [];
  let workerRuns = 0;
  const runs = t.transcripts.map((file) => {
    const name = path.basename(file);
    if (name.startsWith(`${t.id}.review-`)) return `${name} (review)`;
    if (name.startsWith(`${t.id}.agent-`)) return `${name} (${workerRuns++ === 0 ? 'worker' : 'same session, resumed with the findings'})`;
    return name;
  });
  return [
    `  ${`${t.id} sent back`.padEnd(18)}  ${gitC} log --oneline ${t.branch}  (the fix after the review is a commit of its own)`,
    `  ${`${t.id}'s agent runs`.padEnd(18)}  ${runs.join(', ')}`,
  ];
}

function quote(p: string): string {
  return /^[\w./@:+-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`;
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function fail(message: string): number {
  process.stderr.write(`demo: ${message}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 70;
  },
);
