import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClaudeAdapter } from '../../src/agents/claude/adapter.js';
import { claudeTestEnv, startScriptedServer, type ScriptedServer } from '../../src/scripted-api/index.js';

const CLAUDE_BIN = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

let root: string;
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the real Claude Code CLI gets what the adapter means, nothing more', () => {
  it('reads a 400 KB prompt from stdin and takes a tool named "--dangerously-skip-permissions" as a tool, not a flag', async () => {
    root = mkdtempSync(join(tmpdir(), 'mo-realargs-'));
    const home = join(root, 'home');
    const cwd = join(root, 'work');
    mkdirSync(home);
    mkdirSync(cwd);
    server = await startScriptedServer({ scenario: { rules: [{ match: { last_user: 'THE-END-MARKER' }, reply: 'read it all' }] } });
    const env = Object.fromEntries(Object.entries(claudeTestEnv({ serverUrl: server.url, home })).filter((e): e is [string, string] => e[1] !== undefined));
    const transcriptPath = join(root, 'transcript.jsonl');
    const prompt = `- starts like a list\n${'word '.repeat(80_000)}THE-END-MARKER`;
    const result = await createClaudeAdapter({ command: [CLAUDE_BIN], isRoot: false }).run({
      cwd,
      prompt,
      transcriptPath,
      env,
      permissionMode: 'acceptEdits',
      model: 'claude-sonnet-4-5',
      allowedTools: ['--dangerously-skip-permissions', 'Bash(git status:*)'],
      timeoutMs: 60_000,
    });
    expect(result.ok, result.failure?.message).toBe(true);
    expect(result.resultText).toBe('read it all');
    const init = readFileSync(transcriptPath, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type?: string; subtype?: string; permissionMode?: string; model?: string })
      .find((e) => e.subtype === 'init');
    // As its own flag, --dangerously-skip-permissions would have made this "bypassPermissions".
    expect(init).toMatchObject({ permissionMode: 'acceptEdits', model: 'claude-sonnet-4-5' });
    const request = server.requests.find((r) => r.outcome === 'rule');
    expect(JSON.stringify(request?.body)).toContain(`${'word '.repeat(1000)}`);
  });
});
