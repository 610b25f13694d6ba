import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildConfigJsonSchema, renderConfigJsonSchema } from '../../src/config/json-schema.js';
import { loadConfig } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/schema.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
type Schema = { [key: string]: unknown };

describe('published JSON Schema', () => {
  it('is exactly what the generator produces now (run `node dist/config/generate-schema.js` after a build)', () => {
    const committed = readFileSync(new URL('../../schema/orchestrator.config.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigJsonSchema());
  });

  it('targets draft-07, forbids unknown keys at every level, and documents every key with its default', () => {
    const schema = buildConfigJsonSchema();
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const walk = (node: Schema, where: string, defaults: unknown): void => {
      expect(node.additionalProperties, where).toBe(false);
      for (const [key, child] of Object.entries(node.properties as Record<string, Schema>)) {
        expect(typeof child.description, `${where}.${key} description`).toBe('string');
        if (key === '$schema') continue;
        const expected = (defaults as Record<string, unknown>)[key];
        expect(child.default, `${where}.${key} default`).toEqual(expected);
        if (child.type === 'object' && child.properties) walk(child, `${where}.${key}`, expected);
      }
    };
    walk(schema, '(root)', defaultConfig());
  });

  it('describes what users write, not the normalised values', () => {
    const agent = (buildConfigJsonSchema().properties as Record<string, Schema>).agent as Schema;
    const timeout = (agent.properties as Record<string, Schema>).timeout as Schema;
    expect(timeout.anyOf).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'string' })]));
  });
});

describe('shipped orchestrator.config.json', () => {
  it('loads without a single diagnostic and points at the committed schema', async () => {
    const result = await loadConfig({ repoRoot, env: {} });
    expect(result.diagnostics).toEqual([]);
    expect(result.source).toBe('orchestrator.config.json');
    const shipped = JSON.parse(readFileSync(new URL('../../orchestrator.config.json', import.meta.url), 'utf8')) as Schema;
    expect(shipped.$schema).toBe('./schema/orchestrator.config.schema.json');
  });
});
