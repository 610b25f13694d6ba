import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The built entry point: global setup builds it unless SKIP_BUILD=1. */
const CLI = fileURLToPath(new URL('../../dist/scripted-api/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'scripted-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (or the tests without SKIP_BUILD=1)`);
});

function startCli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { stdio: 'pipe' });
}

/** Resolves with the first stdout line, which the CLI prints once it is listening. */
async function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  let out = '';
  for await (const chunk of child.stdout) {
    out += String(chunk);
    if (out.includes('\n')) return out.split('\n')[0]!;
  }
  throw new Error(`the CLI exited before printing a line; stderr: ${child.stderr.read() ?? ''}`);
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('scripted-api CLI entry', () => {
  it('listens, serves the scenario, logs requests and stops cleanly on SIGTERM', async () => {
    const scenario = join(dir, 'scenario.yaml');
    const log = join(dir, 'log.ndjson');
    writeFileSync(scenario, 'rules:\n  - reply: from the file\n');
    const child = startCli(['--scenario', scenario, '--log', log]);
    const stderr = collect(child.stderr);
    const line = await firstLine(child);
    expect(line).toMatch(/^listening http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.slice('listening '.length);

    const res = await fetch(`${url}/v1/messages`, { method: 'POST', body: JSON.stringify({ model: 'm', stream: false, tools: [{ name: 'Read' }], messages: [] }) });
    expect(await res.json()).toMatchObject({ content: [{ type: 'text', text: 'from the file' }] });
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(await stderr).toContain('unknown route GET /nowhere');
    const logged = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { outcome: string });
    expect(logged.map((l) => l.outcome)).toEqual(['rule', 'unknown_route']);
  });

  it('exits 2 naming the file and line of a bad scenario', async () => {
    const scenario = join(dir, 'bad.yaml');
    writeFileSync(scenario, 'rules:\n  - reply:\n      fault: 42\n');
    const child = startCli(['--scenario', scenario]);
    const [stderr, [code]] = await Promise.all([collect(child.stderr), once(child, 'exit') as Promise<[number | null]>]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${scenario}:3:14: rules[0].reply.fault.status`);
  });
});
