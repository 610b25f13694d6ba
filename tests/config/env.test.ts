import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { brief, loadFrom, tempDir } from './helpers.js';

describe('environment overrides', () => {
  const file = { 'orchestrator.config.json': '{ "auto_resume": true, "logging": { "level": "warn" } }' };

  it('LOG_LEVEL overrides logging.level, in either case', async () => {
    expect((await loadFrom(file, { env: { LOG_LEVEL: 'DEBUG' } })).config.logging.level).toBe('debug');
    expect((await loadFrom(file, { env: { LOG_LEVEL: 'error' } })).config.logging.level).toBe('error');
  });

  it.each([
    ['Info', 'info'],
    [' debug ', 'debug'],
    ['WARNING', 'warn'],
  ])('LOG_LEVEL=%j is read as %s (any case, and the Python spelling of warn)', async (value, level) => {
    const result = await loadFrom(file, { env: { LOG_LEVEL: value } });
    expect(result.diagnostics).toEqual([]);
    expect(result.config.logging.level).toBe(level);
  });

  it.each([
    ['false', false],
    ['0', false],
    ['no', false],
    ['NO', false],
    ['true', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['Off', false],
  ])('AUTO_RESUME=%s gives auto_resume %s', async (value, expected) => {
    const base = { 'orchestrator.config.json': JSON.stringify({ auto_resume: !expected }) };
    const result = await loadFrom(base, { env: { AUTO_RESUME: value } });
    expect(result.diagnostics).toEqual([]);
    expect(result.config.auto_resume).toBe(expected);
  });

  it('does not take Object.prototype names for switch values', async () => {
    const result = await loadFrom(file, { env: { AUTO_RESUME: 'constructor' } });
    expect(brief(result)).toEqual(['error config-env-invalid: environment variable AUTO_RESUME: expected true/false, 1/0, yes/no or on/off, got "constructor"']);
  });

  it('ignores empty variables', async () => {
    const result = await loadFrom(file, { env: { LOG_LEVEL: '', AUTO_RESUME: '' } });
    expect(result.diagnostics).toEqual([]);
    expect(result.config.logging.level).toBe('warn');
  });

  it('rejects bad values naming the variable, and keeps the file value', async () => {
    const result = await loadFrom(file, { env: { LOG_LEVEL: 'verbose', AUTO_RESUME: 'maybe' } });
    expect(brief(result)).toEqual([
      'error config-env-invalid: environment variable LOG_LEVEL: expected "debug", "info", "warn" or "error" (any case), got "verbose"',
      'error config-env-invalid: environment variable AUTO_RESUME: expected true/false, 1/0, yes/no or on/off, got "maybe"',
    ]);
    expect(result.config.logging.level).toBe('warn');
    expect(result.config.auto_resume).toBe(true);
  });

  it('applies on top of the defaults when there is no file', async () => {
    const result = await loadFrom({}, { env: { AUTO_RESUME: 'no' } });
    expect(result.source).toBeNull();
    expect(result.config.auto_resume).toBe(false);
  });
});

describe('explicitly named config file', () => {
  const files = {
    'orchestrator.config.json': '{ "max_parallel_tasks": 1 }',
    'configs/ci.yaml': 'max_parallel_tasks: 2\n',
    'configs/env.json': '{ "max_parallel_tasks": 3 }',
  };

  it('--config names a file relative to the current directory, skipping the search', async () => {
    const root = tempDir(files);
    const result = await loadConfig({ repoRoot: root, cwd: path.join(root, 'configs'), explicitPath: 'ci.yaml', env: {} });
    expect(result.diagnostics).toEqual([]);
    expect(result.source).toBe('configs/ci.yaml');
    expect(result.config.max_parallel_tasks).toBe(2);
  });

  it('ORCHESTRATOR_CONFIG names a file the same way', async () => {
    const result = await loadFrom(files, { env: { ORCHESTRATOR_CONFIG: 'configs/env.json' } });
    expect(result.source).toBe('configs/env.json');
    expect(result.config.max_parallel_tasks).toBe(3);
  });

  it('--config wins over ORCHESTRATOR_CONFIG', async () => {
    const result = await loadFrom(files, { explicitPath: 'configs/ci.yaml', env: { ORCHESTRATOR_CONFIG: 'configs/env.json' } });
    expect(result.source).toBe('configs/ci.yaml');
    expect(result.config.max_parallel_tasks).toBe(2);
  });

  it('accepts an absolute path', async () => {
    const root = tempDir(files);
    const result = await loadConfig({ repoRoot: root, explicitPath: path.join(root, 'configs/env.json'), env: {} });
    expect(result.config.max_parallel_tasks).toBe(3);
  });

  it('reports a missing file, naming it and how it was named, and does not fall back to the search', async () => {
    const result = await loadFrom(files, { explicitPath: 'nope.json' });
    expect(brief(result)).toEqual(['error config-not-found: config file nope.json (named by --config) does not exist']);
    expect(result.source).toBeNull();
    expect(result.config.max_parallel_tasks).toBe(4);

    const viaEnv = await loadFrom(files, { env: { ORCHESTRATOR_CONFIG: 'gone.yaml' } });
    expect(brief(viaEnv)).toEqual(['error config-not-found: config file gone.yaml (named by ORCHESTRATOR_CONFIG) does not exist']);
  });

  it('reports a directory or an unsupported file type', async () => {
    expect(brief(await loadFrom(files, { explicitPath: 'configs' }))).toEqual([
      'error config-not-found: config path configs (named by --config) is a directory, not a file',
    ]);
    const toml = await loadFrom({ 'c.toml': 'a = 1' }, { explicitPath: 'c.toml' });
    expect(toml.diagnostics).toMatchObject([{ code: 'config-unsupported', message: 'config file c.toml has an unsupported type ".toml"' }]);
  });

  it('validates an explicit file like a found one, with its path in each message', async () => {
    const result = await loadFrom({ 'configs/bad.json': '{\n  "retry_attempts": "x"\n}' }, { explicitPath: 'configs/bad.json' });
    expect(brief(result)).toEqual([
      'configs/bad.json:2:3 error config-invalid: retry_attempts: expected a whole number >= 0, got "x"',
    ]);
  });
});
