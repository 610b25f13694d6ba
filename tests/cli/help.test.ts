import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../../src/cli/args.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function help(): string {
  const parsed = parseArgs(['--help'], '0.0.0', '/repo');
  expect(parsed.kind).toBe('exit');
  return parsed.kind === 'exit' ? (parsed.stdout ?? '') : '';
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('orchestrate --help', () => {
  it('gives examples that each parse as written', () => {
    const text = help();
    const examples = [...text.matchAll(/^ {2}orchestrate(.*?)(?: {2,}|$)/gm)].map((m) => m[1]!.trim());
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(examples).toContain('init');
    expect(examples).toContain('--validate-only --json');
    for (const example of examples) {
      const argv = example.replace(/\s*>.*$/, '').split(/\s+/).filter(Boolean);
      const parsed = parseArgs(argv, '0.0.0', '/repo');
      expect(parsed.kind, `orchestrate ${example}`).toBe('options');
    }
  });

  it('lists the environment variables the tool reads, and each one listed is read somewhere in src/', () => {
    const text = help();
    const section = text.slice(text.indexOf('Environment:'), text.indexOf('\n\n', text.indexOf('Environment:')));
    const names = [...section.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)\b/g)].map((m) => m[1]!).filter((n) => n.length > 1);
    for (const name of ['ORCHESTRATOR_CONFIG', 'LOG_LEVEL', 'AUTO_RESUME', 'CI', 'ANTHROPIC_API_KEY']) expect(names).toContain(name);
    const code = sources(SRC).map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const name of names) expect(code, name).toMatch(new RegExp(`(\\benv\\.${name}\\b|'${name}'|env\\[['"]${name})`));
  });
});
