import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { brief, loadFrom, tempDir } from './helpers.js';

/** Every supported file form, each setting max_parallel_tasks to 7. */
const FORMS: [string, Record<string, string>][] = [
  ['orchestrator.config.json', { 'orchestrator.config.json': '{ "max_parallel_tasks": 7 }' }],
  ['orchestrator.config.yaml', { 'orchestrator.config.yaml': 'max_parallel_tasks: 7\n' }],
  ['package.json', { 'package.json': JSON.stringify({ name: 'x', orchestrator: { max_parallel_tasks: 7 } }) }],
  ['.orchestratorrc', { '.orchestratorrc': 'max_parallel_tasks: 7\n' }],
  ['.orchestratorrc.json', { '.orchestratorrc.json': '{"max_parallel_tasks": 7}' }],
  ['.orchestratorrc.yaml', { '.orchestratorrc.yaml': 'max_parallel_tasks: 7\n' }],
  ['.orchestratorrc.yml', { '.orchestratorrc.yml': 'max_parallel_tasks: 7\n' }],
  ['.config/orchestratorrc.json', { '.config/orchestratorrc.json': '{"max_parallel_tasks": 7}' }],
  ['orchestrator.config.mjs', { 'orchestrator.config.mjs': 'export default { max_parallel_tasks: 7 };\n' }],
  ['orchestrator.config.cjs', { 'orchestrator.config.cjs': 'module.exports = { max_parallel_tasks: 7 };\n' }],
];

describe('config file forms', () => {
  it.each(FORMS)('reads %s', async (name, files) => {
    // JavaScript configs are only loaded when allowed (tests/hardening/config-paths.test.ts).
    const result = await loadFrom(files, { env: { ORCHESTRATOR_ALLOW_JS_CONFIG: '1' } });
    expect(brief(result)).toEqual([]);
    expect(result.source).toBe(name);
    expect(result.config.max_parallel_tasks).toBe(7);
  });

  it('uses defaults and reports no source when there is no config', async () => {
    const result = await loadFrom({ 'package.json': '{"name": "no-config-here"}' });
    expect(result.source).toBeNull();
    expect(result.diagnostics).toEqual([]);
    expect(result.config.max_parallel_tasks).toBe(4);
  });

  it('prefers orchestrator.config.json over the rc files and package.json', async () => {
    const result = await loadFrom({
      'orchestrator.config.json': '{"max_parallel_tasks": 1}',
      '.orchestratorrc.json': '{"max_parallel_tasks": 2}',
      'package.json': JSON.stringify({ orchestrator: { max_parallel_tasks: 3 } }),
    });
    expect(result.source).toBe('orchestrator.config.json');
    expect(result.config.max_parallel_tasks).toBe(1);
  });

  it('treats an empty file, or a YAML file of comments, as "all defaults" instead of searching on', async () => {
    const cases: Record<string, string>[] = [
      { 'orchestrator.config.json': '', '.orchestratorrc.json': '{"max_parallel_tasks": 2}' },
      { '.orchestratorrc.yaml': '# nothing yet\n', '.orchestratorrc.yml': 'max_parallel_tasks: 2\n' },
    ];
    for (const files of cases) {
      const result = await loadFrom(files);
      expect(result.diagnostics).toEqual([]);
      expect(result.source).toBe(Object.keys(files)[0]);
      expect(result.config.max_parallel_tasks).toBe(4);
    }
  });

  it('does not pick up a config from a parent directory', async () => {
    const parent = tempDir({ 'orchestrator.config.json': '{"max_parallel_tasks": 9}', 'repo/README.md': 'x' });
    const result = await loadConfig({ repoRoot: path.join(parent, 'repo'), env: {} });
    expect(result.source).toBeNull();
    expect(result.config.max_parallel_tasks).toBe(4);
  });

  it('reads a UTF-8 byte-order mark without complaint', async () => {
    const result = await loadFrom({ 'orchestrator.config.json': '\uFEFF{"retry_attempts": 2}' });
    expect(brief(result)).toEqual([]);
    expect(result.config.retry_attempts).toBe(2);
  });

  it.each([
    ['orchestrator.config.mjs', 'export default {\n  max_parallel_tasks: 2,,\n};\n', '2:25', "invalid JavaScript: Unexpected token ','"],
    ['orchestrator.config.cjs', 'module.exports = {\n  a: 1\n  b: 2\n};\n', '3:3', "invalid JavaScript: Unexpected identifier 'b'"],
  ])('reports a syntax error in %s where node places it, not a require() riddle', async (name, body, at, message) => {
    const result = await loadFrom({ [name]: body }, { env: { ORCHESTRATOR_ALLOW_JS_CONFIG: '1' } });
    expect(brief(result)).toEqual([`${name}:${at} error config-syntax: ${message}`]);
  });

  it('reads an ES module config named .js', async () => {
    const result = await loadFrom({ 'orchestrator.config.js': 'export default { max_parallel_tasks: 3 };\n' }, { env: { ORCHESTRATOR_ALLOW_JS_CONFIG: '1' } });
    expect(brief(result)).toEqual([]);
    expect(result.config.max_parallel_tasks).toBe(3);
  });

  it('reports a JavaScript config that throws while loading', async () => {
    const result = await loadFrom({ 'orchestrator.config.mjs': 'throw new Error("boom");\n' }, { env: { ORCHESTRATOR_ALLOW_JS_CONFIG: '1' } });
    expect(brief(result)).toEqual(['orchestrator.config.mjs error config-load-failed: could not load the config file: boom']);
    expect(result.config.max_parallel_tasks).toBe(4);
  });
});
