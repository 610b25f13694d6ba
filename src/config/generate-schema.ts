/**
 * Writes `schema/orchestrator.config.schema.json` from the zod schema. Run after a build:
 *   node dist/config/generate-schema.js          # rewrite the file
 *   node dist/config/generate-schema.js --check  # exit 1 if the committed file is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigJsonSchema } from './json-schema.js';

/** Two levels up from both src/config and dist/config is the package root. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/orchestrator.config.schema.json', import.meta.url));

function main(argv: readonly string[]): number {
  const expected = renderConfigJsonSchema();
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // A missing file is simply stale.
    }
    if (current === expected) return 0;
    process.stderr.write(`${SCHEMA_FILE} is out of date; run: node dist/config/generate-schema.js\n`);
    return 1;
  }
  writeFileSync(SCHEMA_FILE, expected);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
