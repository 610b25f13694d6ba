import { z } from 'zod';
import { configSchema, defaultConfig } from './schema.js';

type JsonSchema = { [key: string]: unknown };

/**
 * The JSON Schema editors use to complete and check `orchestrator.config.json`. Draft-07 because that is
 * what VS Code understands best. It describes the *input* (what users write: `"INFO"`, `"45m"`), not the
 * normalised `Config`.
 */
export function buildConfigJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-07', io: 'input' }) as JsonSchema;
  tidy(schema);
  fillDefaults(schema, defaultConfig());
  return { $schema: schema.$schema, title: 'milestone-orchestrator configuration', ...schema };
}

/** The file's exact text, so the committed copy can be compared byte for byte. */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(buildConfigJsonSchema(), null, 2)}\n`;
}

/** zod writes `maximum: 2^53-1` on every integer; it is noise in an editor tooltip. */
function tidy(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(tidy);
  if (typeof node !== 'object' || node === null) return;
  const record = node as JsonSchema;
  if (record.maximum === Number.MAX_SAFE_INTEGER) delete record.maximum;
  Object.values(record).forEach(tidy);
}

/**
 * Every property gets its real default. zod omits defaults of normalising fields (their default is an
 * output value) and writes `{}` for nested sections; editors insert the default on completion, so the
 * complete value is more useful.
 */
function fillDefaults(schema: JsonSchema, defaults: unknown): void {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!properties || typeof defaults !== 'object' || defaults === null) return;
  for (const [key, property] of Object.entries(properties)) {
    const value = (defaults as Record<string, unknown>)[key];
    if (value === undefined) continue;
    property.default = value;
    fillDefaults(property, value);
  }
}
