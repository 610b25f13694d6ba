import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { assertCompleted, FAKE_AGENT, makeBenchRepo, ms, runCli, sleepThenWrite } from '../lib/cli-run.js';
import type { TaskSpec } from '../lib/plan-gen.js';
import { command, table, verdict, type Scenario } from '../lib/scenario.js';
import { fmt, max, median, min } from '../lib/stats.js';
import { gitCallKind, gitCounter } from '../lib/git-count.js';

const TASKS = 12;
const REPS = 3;

/** One run, split into its phases (ms). */
export interface Phases {
  wall: number;
  /** First task start to last task end, divided by the tasks: worktree, agent, commit, and the gaps between. */
  perTask: number;
  /** Merging every branch and moving the target, divided by the tasks. */
  mergePerTask: number;
  /** Everything else: process start, validation, preflight, lock and state (orchestrator), `git rev-parse` (script). */
  fixed: number;
}

export interface OverheadResult {
  tasks: number;
  reps: number;
  orchestrator: Phases[];
  script: Phases[];
  /** git processes per task (difference between a 6- and a 2-task run), and the orchestrator's by kind. */
  gitPerTask: { orchestrator: number; script: number; kinds: [string, number][] };
  /** 1-minute load average when the timed runs started. */
  loadAverage?: number;
}

function specs(n: number): TaskSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: `1${String.fromCharCode(65 + i)}`, stage: 1, deps: [], duration: 0, estimate: 30 }));
}

/**
 * The same git work without the orchestrator: per task a worktree on a new branch, the same fake agent with the
 * same script in it, `git add -A` + commit; then every branch merged with --no-ff in a detached merge worktree
 * and the target moved with update-ref. Prints a timestamp (ms) before the tasks, between tasks and merge, and at
 * the end.
 */
function plainScript(ids: readonly string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'set -eu',
    'base=$(git rev-parse HEAD)',
    'echo "T $(date +%s%3N)"',
    `for id in ${ids.join(' ')}; do`,
    '  git worktree add -q -b "milestone/$id" ".worktree/$id" "$base"',
    `  (cd ".worktree/$id" && ${q(process.execPath)} ${q(FAKE_AGENT)} -p "You are working on milestone $id: Task $id." --output-format stream-json --verbose > /dev/null)`,
    '  git -C ".worktree/$id" add -A',
    '  git -C ".worktree/$id" commit -q -m "$id: Task $id"',
    'done',
    'echo "T $(date +%s%3N)"',
    'git worktree add -q --detach .worktree/_merge "$base"',
    `for id in ${ids.join(' ')}; do`,
    '  git -C .worktree/_merge merge -q --no-ff --no-edit -m "Merge milestone $id: Task $id" "milestone/$id"',
    'done',
    'git update-ref refs/heads/main "$(git -C .worktree/_merge rev-parse HEAD)" "$base"',
    'echo "T $(date +%s%3N)"',
    '',
  ].join('\n');
}

function runScript(file: string, cwd: string, env: Record<string, string>): Promise<{ wall: number; marks: number[] }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('bash', [file], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`plain script failed (${code}): ${err}`));
      const marks = [...out.matchAll(/^T (\d+)$/gm)].map((m) => Number(m[1]));
      resolve({ wall: performance.now() - t0, marks });
    });
  });
}

async function orchestratorRun(n: number, extraEnv: Record<string, string> = {}): Promise<Phases> {
  const tasks = specs(n);
  const repo = makeBenchRepo(tasks, sleepThenWrite(tasks), { max_parallel_tasks: 1 });
  try {
    const run = await runCli([], { cwd: repo.root, env: { ...repo.env, ...extraEnv } });
    const state = assertCompleted(run, repo.root, n);
    const records = Object.values(state.tasks);
    const first = min(records.map((t) => ms(t.startedAt)));
    const last = max(records.map((t) => ms(t.finishedAt)));
    const end = ms(state.finishedAt);
    return { wall: run.wallMs, perTask: (last - first) / n, mergePerTask: (end - last) / n, fixed: run.wallMs - (end - first) };
  } finally {
    repo.cleanup();
  }
}

async function scriptRun(n: number, extraEnv: Record<string, string> = {}): Promise<Phases> {
  const tasks = specs(n);
  const repo = makeBenchRepo(tasks, sleepThenWrite(tasks));
  try {
    const file = path.join(path.dirname(repo.root), 'plain.sh');
    writeFileSync(file, plainScript(tasks.map((t) => t.id)));
    const { wall, marks } = await runScript(file, repo.root, { ...repo.env, ...extraEnv });
    const [a = 0, b = 0, c = 0] = marks;
    return { wall, perTask: (b - a) / n, mergePerTask: (c - b) / n, fixed: wall - (c - a) };
  } finally {
    repo.cleanup();
  }
}

/** git processes started per task: runs of 6 and 2 tasks through a counting `git` wrapper. */
async function countGit(runner: (n: number, env: Record<string, string>) => Promise<Phases>): Promise<{ perTask: number; kinds: [string, number][] }> {
  const counts: string[][] = [];
  for (const n of [2, 6]) {
    const counter = gitCounter();
    try {
      await runner(n, counter.env);
      counts.push(counter.calls());
    } finally {
      counter.cleanup();
    }
  }
  const tally = (calls: string[]) => {
    const m = new Map<string, number>();
    for (const c of calls) m.set(gitCallKind(c), (m.get(gitCallKind(c)) ?? 0) + 1);
    return m;
  };
  const [small, large] = [tally(counts[0]!), tally(counts[1]!)];
  const kinds = [...large.entries()].map(([k, v]): [string, number] => [k, (v - (small.get(k) ?? 0)) / 4]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  return { perTask: (counts[1]!.length - counts[0]!.length) / 4, kinds };
}

function summarise(runs: readonly Phases[]): Phases & { total: number } {
  const pick = (k: keyof Phases) => median(runs.map((r) => r[k]));
  const perTask = pick('perTask');
  const mergePerTask = pick('mergePerTask');
  return { wall: pick('wall'), perTask, mergePerTask, fixed: pick('fixed'), total: perTask + mergePerTask };
}

function derived(r: OverheadResult) {
  const o = summarise(r.orchestrator);
  const s = summarise(r.script);
  return { o, s, ratio: o.total / s.total };
}

export const overhead: Scenario<OverheadResult> = {
  name: 'overhead',
  title: 'Orchestrator overhead per task vs a plain script',
  expectedSeconds: 45,
  async run(log) {
    const orchestratorGit = await countGit(orchestratorRun);
    const scriptGit = await countGit(scriptRun);
    log(`  git processes per task: orchestrator ${orchestratorGit.perTask}, plain script ${scriptGit.perTask}`);
    const result: OverheadResult = {
      tasks: TASKS,
      reps: REPS,
      orchestrator: [],
      script: [],
      gitPerTask: { orchestrator: orchestratorGit.perTask, script: scriptGit.perTask, kinds: orchestratorGit.kinds },
      loadAverage: os.loadavg()[0] ?? 0,
    };
    for (let rep = 0; rep < REPS; rep++) {
      // Interleaved, so both see the same machine load.
      const o = await orchestratorRun(TASKS);
      const s = await scriptRun(TASKS);
      result.orchestrator.push(o);
      result.script.push(s);
      log(`  ${TASKS} tasks: orchestrator ${fmt.ms(o.perTask + o.mergePerTask)} per task, plain script ${fmt.ms(s.perTask + s.mergePerTask)} per task`);
    }
    return result;
  },
  render(r) {
    const { o, s, ratio } = derived(r);
    const extraGit = r.gitPerTask.orchestrator - r.gitPerTask.script;
    const perGit = (o.total - s.total) / extraGit;
    const fewer = (o.total - 1.3 * s.total) / perGit;
    return [
      `Reproduce: \`${command('overhead')}\``,
      '',
      `One stage of ${r.tasks} independent tasks, \`max_parallel_tasks: 1\` (so per-task costs add up instead of overlapping), review,`,
      'checks and the resource gate off, the fake agent writing one file with no sleep. The plain script (bash) does the',
      'same git work and runs the same fake agent with the same script: per task `git worktree add -b`, the agent, `git',
      'add -A`, `git commit`; then `git merge --no-ff` of every branch in a detached merge worktree and `git update-ref`',
      `of the target. ${r.reps} runs of each, interleaved; medians. Each run is split into phases from its own timestamps`,
      '(run-state.json for the orchestrator, `date` marks for the script): the task loop from the first task start to',
      'the last task end (gaps between tasks included), the merge from there to the end, and the fixed rest (process',
      'start, validation, preflight, lock and state files) outside both.',
      `1-minute load average when the timed runs started: ${r.loadAverage === undefined ? 'not recorded' : r.loadAverage.toFixed(2)} on ${os.availableParallelism()} CPUs.`,
      '',
      table(
        ['per task', 'orchestrator', 'plain script', 'ratio'],
        [
          ['worktree + agent + commit (+ gaps)', fmt.ms(o.perTask), fmt.ms(s.perTask), fmt.ratio(o.perTask / s.perTask, 2)],
          ['merge', fmt.ms(o.mergePerTask), fmt.ms(s.mergePerTask), fmt.ratio(o.mergePerTask / s.mergePerTask, 2)],
          ['**total per task**', fmt.ms(o.total), fmt.ms(s.total), `**${fmt.ratio(ratio, 2)}**`],
          ['fixed per run', fmt.ms(o.fixed), fmt.ms(s.fixed), ''],
          [`wall, ${r.tasks} tasks`, fmt.ms(o.wall), fmt.ms(s.wall), fmt.ratio(o.wall / s.wall, 2)],
        ],
      ),
      '',
      `- Per-task cost against the plain script: ${fmt.ratio(ratio, 2)}: target <= 1.3x ${verdict(ratio <= 1.3)}. The orchestrator's own share is`,
      `  ${fmt.ms(o.total - s.total)} per task, plus ${fmt.ms(o.fixed - s.fixed)} once per run. Serial runs on a shared 2-core box vary by tens of`,
      '  percent from one invocation to the next; the phases above are medians of the repetitions.',
      `- Why: the orchestrator starts ${r.gitPerTask.orchestrator} git processes per task where the script starts ${r.gitPerTask.script} (counted through a`,
      '  logging `git` wrapper on PATH, runs of 6 and 2 tasks), and every process start costs the orchestrator more than',
      "  it costs bash: fork() copies the parent's page tables, so its cost grows with the parent's memory (see the",
      '  spawn-cost table in the next section; the orchestrator holds 100-150 MB, bash a few). Per task, by kind:',
      `  ${r.gitPerTask.kinds.map(([k, v]) => `\`${k}\` ${v}`).join(', ')}.`,
      '- What was cut (2026-11-30, src/git): 20 git processes per task before, counted the same way. A task worktree is',
      '  created and locked by one `git worktree add --lock -b` (leftovers are examined only when git refuses); lock',
      "  and unlock read the lock from the worktree's git dir instead of `git worktree list`; identity and",
      '  `core.hooksPath` come from one `git config --get-regexp` per repository while no config file changes; a hook',
      '  whose file does not exist is not started; the head and commit count after the commit come from one',
      '  `rev-list`; a merge no longer asks `rev-parse` and `merge-base` first (an already merged branch is "Already up',
      "  to date\"). What remains above the script's four: `ls-files --stage --others` (a git repository an agent",
      '  nested in its worktree is refused before `git add`, whose look inside it would run that repository\'s own',
      '  filters as the user: added later the same day, for the sandbox), `diff --cached` (is there anything to',
      '  commit), `rev-list` (the head and commit count the run state records) and `worktree unlock` (the lock that',
      "  keeps `git worktree prune` away from a worktree in use). Neither hook was configured here; each configured one",
      '  adds a process.',
      `- What is left: if the whole remaining difference were the ${extraGit} extra git processes they would cost ${fmt.ms(perGit, 1)} each,`,
      '  far more than a git start: the rest is the orchestrator\'s own bookkeeping per task (the journal, run-state.json,',
      '  TASKS.md and metrics written and fsynced at each step) and its process starts costing more than bash\'s (fork()',
      "  copies the parent's page tables: see the spawn-cost table in the next section). On this shared 2-core box",
      '  under load the ratio moves by tens of percent between repetitions; the CPU profile in the next section shows',
      `  where the orchestrator's own time goes. ${fewer > 0 ? `Within 1.3x, about ${fmt.ms(o.total - 1.3 * s.total)} per task would have to go.` : 'The target holds at this load.'}`,
      '- Load matters here: both sides stretch on a busy box and the ratio compresses. On 2026-11-30, before the git',
      '  changes, this bench gave 2.05x at load 1.7-1.9 (plain script 191 ms per task); a figure measured at a load above',
      '  about 4 (see the load average above) is optimistic, and should be repeated on a quiet machine.',
    ].join('\n');
  },
  summary(r) {
    const { ratio } = derived(r);
    const load = r.loadAverage === undefined ? '' : ` (load ${r.loadAverage.toFixed(1)})`;
    return [
      { what: `orchestrator cost per task / plain script (same git work, same agent)${load}`, measured: `${fmt.ratio(ratio, 2)}; git processes ${r.gitPerTask.orchestrator} vs ${r.gitPerTask.script}`, target: '<= 1.3x', met: ratio <= 1.3 },
    ];
  },
};
