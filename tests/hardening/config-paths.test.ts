import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { brief, loadFrom, tempDir } from '../config/helpers.js';

const json = (body: string) => ({ 'orchestrator.config.json': body });

describe('worktrees.copy_files stays inside the repository', () => {
  it('refuses "..", absolute paths and the root itself, each at its line and column', async () => {
    const result = await loadFrom(json('{\n  "worktrees": {\n    "copy_files": [\n      ".env",\n      "../../secret.txt",\n      "/abs/secret.txt",\n      "config/../../x",\n      "C:\\\\secret",\n      "./"\n    ]\n  }\n}\n'));
    const message = (v: string) => `worktrees.copy_files[${v}]: expected a path relative to the repository root, without ".." (e.g. ".env"), got`;
    expect(brief(result)).toEqual([
      `orchestrator.config.json:5:7 error config-invalid: ${message('1')} "../../secret.txt"`,
      `orchestrator.config.json:6:7 error config-invalid: ${message('2')} "/abs/secret.txt"`,
      `orchestrator.config.json:7:7 error config-invalid: ${message('3')} "config/../../x"`,
      `orchestrator.config.json:8:7 error config-invalid: ${message('4')} "C:\\\\secret"`,
      `orchestrator.config.json:9:7 error config-invalid: ${message('5')} "./"`,
    ]);
  });
});

describe('worktrees.dir is a folder of its own', () => {
  it.each([
    ['.', 'is the repository root'],
    ['./', 'is the repository root'],
    ['..', 'contains the repository'],
  ])('%j is refused at its line and column', async (dir, what) => {
    const result = await loadFrom(json(`{\n  "worktrees": { "dir": ${JSON.stringify(dir)} }\n}\n`));
    expect(brief(result)).toEqual([`orchestrator.config.json:2:18 error config-invalid: worktrees.dir: "${dir}" ${what}; task worktrees need a folder of their own`]);
  });

  it.each(['node_modules', 'node_modules/.wt', './x/../node_modules/wt'])('%j (inside node_modules) is refused at its line and column', async (dir) => {
    const result = await loadFrom(json(`{\n  "worktrees": { "dir": ${JSON.stringify(dir)} }\n}\n`));
    expect(brief(result)).toEqual([
      `orchestrator.config.json:2:18 error config-invalid: worktrees.dir: "${dir}" is inside node_modules: an install (npm ci) in the main checkout would delete the worktrees, and each worktree's copy of node_modules would contain them`,
    ]);
  });

  it.each(['.git', '.git/wt', './x/../.git/worktrees/a'])('%j (inside .git) is refused at its line and column', async (dir) => {
    const result = await loadFrom(json(`{\n  "worktrees": { "dir": ${JSON.stringify(dir)} }\n}\n`));
    expect(brief(result)).toEqual([
      `orchestrator.config.json:2:18 error config-invalid: worktrees.dir: "${dir}" is inside the repository's .git folder (git's own files; sandboxed agents cannot write there)`,
    ]);
  });

  it('an existing file, or TASKS.md, is refused at its line and column; nothing is written', async () => {
    const files = { 'TASKS.md': '# my tasks\n', 'notes.txt': 'mine\n' };
    const tasks = await loadFrom({ ...files, ...json('{\n  "worktrees": { "dir": "TASKS.md" }\n}\n') });
    expect(brief(tasks)).toEqual(['orchestrator.config.json:2:18 error config-invalid: worktrees.dir: "TASKS.md" is TASKS.md, the file the orchestrator writes its progress to: the orchestrator would create task worktrees in it']);
    expect(tasks.diagnostics[0]!.hint).toContain('".worktree"');
    const file = await loadFrom({ ...files, ...json('{\n  "worktrees": { "dir": "notes.txt" },\n  "logging": { "log_dir": "./notes.txt" }\n}\n') });
    expect(brief(file)).toEqual([
      'orchestrator.config.json:2:18 error config-invalid: worktrees.dir: "notes.txt" is a file, not a folder: the orchestrator would create task worktrees in it',
      'orchestrator.config.json:3:16 error config-invalid: logging.log_dir: "./notes.txt" is a file, not a folder: the orchestrator would write logs and transcripts to it',
    ]);
  });

  it('a folder outside the repository, configured on purpose, is fine', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'mo-outside-'));
    const result = await loadFrom(json(JSON.stringify({ worktrees: { dir: path.join(outside, 'wt') }, state_dir: path.join(outside, 'state'), logging: { log_dir: '../logs-elsewhere' } })));
    expect(brief(result)).toEqual([]);
  });
});

describe('a committed link out of the repository is refused', () => {
  // Worktrees and logs live outside the repository by default; here they are configured inside it (lines 2, 3).
  const CONFIG = '{\n  "worktrees": { "dir": ".worktree" },\n  "logging": { "log_dir": "logs" }\n}\n';
  it.each([
    ['.worktree', 'worktrees.dir', 'create task worktrees in', ':2:18'],
    ['.orchestrator', 'state_dir', 'write the run state and lock to', ''],
    ['logs', 'logging.log_dir', 'write logs and transcripts to', ':3:16'],
    ['milestones', 'milestones_dir', 'read the milestones from', ''],
  ])('%s as a link', async (folder, key, does, at) => {
    const outside = mkdtempSync(path.join(tmpdir(), 'mo-outside-'));
    const root = tempDir({ 'orchestrator.config.json': CONFIG });
    symlinkSync(outside, path.join(root, folder));
    const result = await loadConfig({ repoRoot: root, env: {}, cwd: root });
    expect(brief(result)).toEqual([
      `orchestrator.config.json${at} error config-path-outside: ${key}: "${folder}" is inside the repository, but ${folder} is a link to ${outside}, outside it: the orchestrator would ${does} there`,
    ]);
    expect(result.diagnostics[0]?.hint).toBe(`remove the link (rm ${folder}), or, if that is where you want it, set ${key} to "${outside}"`);
    if (key === 'milestones_dir') expect(result.milestonesDirTrusted).toBe(false);
  });

  it('a link deeper in the path is found too, and one that stays inside the repository is fine', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'mo-outside-'));
    const root = tempDir({ 'orchestrator.config.json': '{\n  "worktrees": { "dir": "build/wt" },\n  "state_dir": "inner/state"\n}\n' });
    symlinkSync(outside, path.join(root, 'build'));
    mkdirSync(path.join(root, 'real-inner'));
    symlinkSync(path.join(root, 'real-inner'), path.join(root, 'inner'));
    const result = await loadConfig({ repoRoot: root, env: {}, cwd: root });
    expect(brief(result)).toEqual([
      `orchestrator.config.json:2:18 error config-path-outside: worktrees.dir: "build/wt" is inside the repository, but build is a link to ${outside}, outside it: the orchestrator would create task worktrees in there`,
    ]);
  });
});

describe('a configuration file that is not UTF-8', () => {
  it.each([
    ['orchestrator.config.json', Buffer.concat([Buffer.from('{\n  "agent": {\n    "model": "caf'), Buffer.from([0xe9]), Buffer.from('"\n  }\n}\n')]), '3:18'],
    ['orchestrator.config.yaml', Buffer.concat([Buffer.from('agent:\n  model: "é'), Buffer.from([0xff]), Buffer.from('"\n')]), '2:12'],
  ])('%s is refused at the first bad byte', async (name, bytes, at) => {
    const root = mkdtempSync(path.join(tmpdir(), 'mo-utf8-'));
    writeFileSync(path.join(root, name), bytes);
    const result = await loadConfig({ repoRoot: root, env: {}, cwd: root });
    expect(brief(result)).toEqual([expect.stringMatching(new RegExp(`^${name.replace('.', '\\.')}:${at} error config-syntax: the file is not valid UTF-8 \\(byte 0x(E9|FF) here\\)$`))]);
    expect(result.diagnostics[0]?.hint).toMatch(/save it as UTF-8/);
  });
});

describe('a JavaScript configuration found by searching is not run unless asked for', () => {
  const js = (marker: string) => `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = { max_parallel_tasks: 2 };\n`;

  it('is refused with how to allow it, and its code does not run', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mo-js-'));
    const marker = path.join(root, 'ran.txt');
    writeFileSync(path.join(root, 'orchestrator.config.cjs'), js(marker));
    const result = await loadConfig({ repoRoot: root, env: {}, cwd: root });
    expect(brief(result)).toEqual([
      'orchestrator.config.cjs error config-untrusted-js: orchestrator.config.cjs is a JavaScript configuration: loading it runs its code with your rights, so it is not loaded unless you ask for it',
    ]);
    expect(result.diagnostics[0]?.hint).toBe(
      'read it, then run with --config orchestrator.config.cjs (or ORCHESTRATOR_ALLOW_JS_CONFIG=1 in the environment); or use orchestrator.config.json instead',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ['--config', { explicitPath: 'orchestrator.config.cjs', env: {} }],
    ['ORCHESTRATOR_CONFIG', { env: { ORCHESTRATOR_CONFIG: 'orchestrator.config.cjs' } }],
    ['ORCHESTRATOR_ALLOW_JS_CONFIG=1', { env: { ORCHESTRATOR_ALLOW_JS_CONFIG: '1' } }],
  ])('is loaded when allowed with %s (the hint works)', async (_how, opts) => {
    const root = mkdtempSync(path.join(tmpdir(), 'mo-js-'));
    const marker = path.join(root, 'ran.txt');
    writeFileSync(path.join(root, 'orchestrator.config.cjs'), js(marker));
    const result = await loadConfig({ repoRoot: root, cwd: root, ...opts });
    expect(brief(result)).toEqual([]);
    expect(result.config.max_parallel_tasks).toBe(2);
    expect(existsSync(marker)).toBe(true);
  });

  it.each(['orchestrator.config.ts', '.orchestratorrc.ts', '.config/orchestratorrc.ts'])('%s (TypeScript, which cosmiconfig also searches and compiles) is refused the same way', async (name) => {
    const root = mkdtempSync(path.join(tmpdir(), 'mo-ts-'));
    const marker = path.join(root, 'ran.txt');
    mkdirSync(path.join(root, '.config'), { recursive: true });
    writeFileSync(path.join(root, name), `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, 'ran');\nexport default { max_parallel_tasks: 2 };\n`);
    const result = await loadConfig({ repoRoot: root, env: {}, cwd: root });
    expect(brief(result)).toEqual([
      `${name} error config-untrusted-js: ${name} is a JavaScript configuration: loading it runs its code with your rights, so it is not loaded unless you ask for it`,
    ]);
    expect(existsSync(marker)).toBe(false);
  });
});
