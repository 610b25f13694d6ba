import { readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRepo, type TempRepo } from './git-repo.js';

export const FAKE_AGENT = fileURLToPath(new URL('./fake-agent.mjs', import.meta.url));

export interface FakeRecord {
  event: 'start' | 'end' | 'child' | 'sigterm';
  pid: number;
  key: string | null;
  time: number;
  cwd?: string;
  invocation?: number;
  sessionId?: string;
  resumed?: boolean;
  exitCode?: number;
}

export function milestone(id: string, opts: { deps?: string[]; estimate?: string; frontMatter?: string } = {}): string {
  return [
    ...(opts.frontMatter ? ['---', opts.frontMatter, '---'] : []),
    `# Milestone ${id} - Task ${id}`,
    '',
    '## Description',
    `Work for ${id}.`,
    '',
    '## Tasks',
    `1. Create ${id}.txt`,
    '',
    '## Exit Criteria',
    `- ${id}.txt exists`,
    '',
    '## Dependencies',
    opts.deps?.length ? opts.deps.map((d) => `- ${d}`).join('\n') : '- None',
    '',
    '## Estimated Time',
    opts.estimate ?? '30 min',
    '',
  ].join('\n');
}

/**
 * A repo with milestones and a config that runs the fake agent. `script` is the fake agent's script (see the
 * top of fake-agent.mjs); the log path records every agent start and end.
 */
export function makeEngineRepo(milestones: Record<string, string>, script: object, config: object = {}): TempRepo & { log: string; scriptFile: string; env: Record<string, string> } {
  const repo = makeRepo();
  for (const [id, text] of Object.entries(milestones)) repo.write(`milestones/${id}.md`, text);
  repo.write(
    'orchestrator.config.json',
    `${JSON.stringify({ max_parallel_tasks: 2, review: { enabled: false }, resources: { enabled: false }, ...config, agent: { command: [process.execPath, FAKE_AGENT], ...((config as { agent?: object }).agent ?? {}) } }, null, 2)}\n`,
  );
  repo.commit('milestones and config');
  const scriptFile = path.join(path.dirname(repo.root), `${path.basename(repo.root)}-script.json`);
  const log = path.join(path.dirname(repo.root), `${path.basename(repo.root)}-agent.ndjson`);
  writeFileSync(scriptFile, JSON.stringify(script));
  const env = { FAKE_AGENT_SCRIPT: scriptFile, FAKE_AGENT_LOG: log, ANTHROPIC_API_KEY: 'sk-test-dummy-key-000' };
  const cleanup = () => {
    repo.cleanup();
    rmSync(scriptFile, { force: true });
    rmSync(log, { force: true });
  };
  return { ...repo, cleanup, log, scriptFile, env };
}

export function readAgentLog(file: string): FakeRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FakeRecord);
}

/** The most agents alive at once, from their own start/end records. */
export function maxConcurrent(records: FakeRecord[]): number {
  const events = records
    .filter((r) => r.event === 'start' || r.event === 'end')
    .map((r) => ({ t: r.time, d: r.event === 'start' ? 1 : -1 }))
    .sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of events) {
    now += e.d;
    max = Math.max(max, now);
  }
  return max;
}

export function readState(root: string): any {
  return JSON.parse(readFileSync(path.join(root, '.orchestrator', 'run-state.json'), 'utf8'));
}
