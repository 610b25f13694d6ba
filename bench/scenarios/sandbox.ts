import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { createClaudeAdapter } from '../../src/agents/claude/adapter.js';
import type { SandboxPolicy } from '../../src/agents/claude/sandbox.js';
import { claudeTestEnv } from '../../src/scripted-api/claude-env.js';
import { startScriptedServer } from '../../src/scripted-api/server.js';
import { ROOT, tempDir } from '../lib/cli-run.js';
import { command, table, type Scenario } from '../lib/scenario.js';
import { median } from '../lib/stats.js';

const fmt = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** Shell commands per agent run, and runs per mode. */
const COMMANDS = 10;
const REPS = 3;

export interface SandboxBenchResult {
  commands: number;
  /** Per run: wall ms and CPU ms of the claude process tree (its children's user+sys time). */
  sandboxed: { wallMs: number[]; cpuMs: number[] };
  plain: { wallMs: number[]; cpuMs: number[] };
  loadPerCpu: number;
}

/** User+sys CPU of this process's waited-for children so far, in ms (Linux: /proc/self/stat cutime + cstime). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return (ticks * 1000) / 100;
}

/**
 * One agent run of `COMMANDS` trivial shell commands (`true`), in Claude Code's sandbox (the orchestrator's settings)
 * or unsandboxed with Bash allowed; the difference per command is the sandbox's cost.
 */
export const sandbox: Scenario<SandboxBenchResult> = {
  name: 'sandbox',
  title: "Claude Code's shell sandbox: cost per shell command",
  expectedSeconds: 60,
  async run(log) {
    const base = tempDir('mo-bench-sbx-');
    const rules = Array.from({ length: COMMANDS }, (_, i) => ({ match: { turn: i }, reply: { tool_use: { name: 'Bash', input: { command: 'true', description: 'noop' } } } }));
    const server = await startScriptedServer({ scenario: { rules: [...rules, { match: { turn: COMMANDS }, reply: 'done' }] } });
    const result: SandboxBenchResult = { commands: COMMANDS, sandboxed: { wallMs: [], cpuMs: [] }, plain: { wallMs: [], cpuMs: [] }, loadPerCpu: loadavg()[0]! / cpus().length };
    try {
      const repo = path.join(base, 'repo');
      mkdirSync(repo);
      execFileSync('git', ['init', '-q'], { cwd: repo });
      const policy: SandboxPolicy = { allowedDomains: [], denyRead: [], denyEnv: [], denyWrite: [path.join(repo, '.git')] };
      const claude = [path.join(ROOT, 'node_modules', '.bin', 'claude')];
      for (let rep = 0; rep < REPS; rep++) {
        for (const mode of ['sandboxed', 'plain'] as const) {
          const home = path.join(base, `home-${mode}-${rep}`);
          mkdirSync(home);
          const saved = process.env;
          process.env = claudeTestEnv({ serverUrl: server.url, home, base: saved });
          try {
            const adapter = createClaudeAdapter({ command: claude, ...(mode === 'sandboxed' ? { sandbox: policy } : {}) });
            const cpu0 = childrenCpuMs();
            const r = await adapter.run({
              cwd: repo,
              prompt: 'bench',
              transcriptPath: path.join(base, `${mode}-${rep}.jsonl`),
              permissionMode: 'acceptEdits',
              ...(mode === 'plain' ? { allowedTools: ['Bash'] } : {}),
            });
            if (!r.ok || r.numTurns !== COMMANDS + 1) throw new Error(`${mode} run ${rep}: ${r.failure?.message ?? `${r.numTurns} turns`}`);
            result[mode].wallMs.push(r.durationMs);
            result[mode].cpuMs.push(childrenCpuMs() - cpu0);
            log(`  ${mode} #${rep + 1}: ${fmt(r.durationMs / 1000, 1)} s wall, ${fmt((childrenCpuMs() - cpu0) / 1000, 2)} CPU-s`);
          } finally {
            process.env = saved;
          }
        }
      }
    } finally {
      await server.close();
      rmSync(base, { recursive: true, force: true });
    }
    return result;
  },
  render(r) {
    const perCommand = (k: 'wallMs' | 'cpuMs') => (median(r.sandboxed[k]) - median(r.plain[k])) / r.commands;
    return [
      `One real \`claude\` run of ${r.commands} trivial shell commands (\`true\`) against the scripted server, ${r.sandboxed.wallMs.length} runs each: in the sandbox with the`,
      "orchestrator's settings (bubblewrap + socat), and unsandboxed with `--allowedTools Bash`. Load per CPU at the start:",
      `${fmt(r.loadPerCpu, 2)} (the machine is shared; wall times vary with it). Reproduce: \`${command('sandbox')}\`.`,
      '',
      table(
        ['mode', 'wall per run (median)', 'CPU per run (median)'],
        [
          ['sandboxed', `${fmt(median(r.sandboxed.wallMs) / 1000, 2)} s`, `${fmt(median(r.sandboxed.cpuMs) / 1000, 2)} s`],
          ['plain', `${fmt(median(r.plain.wallMs) / 1000, 2)} s`, `${fmt(median(r.plain.cpuMs) / 1000, 2)} s`],
        ],
      ),
      '',
      `Cost of the sandbox per shell command: **${fmt(perCommand('wallMs'), 0)} ms wall, ${fmt(perCommand('cpuMs'), 0)} ms CPU** (median difference / ${r.commands}).`,
    ].join('\n');
  },
  summary(r) {
    const wall = (median(r.sandboxed.wallMs) - median(r.plain.wallMs)) / r.commands;
    return [{ what: 'sandbox cost per shell command (wall)', measured: `${fmt(wall, 0)} ms`, target: 'reported (no target)', met: undefined }];
  },
};
