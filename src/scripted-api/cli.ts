#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ScenarioError } from './scenario.js';
import { startScriptedServer } from './server.js';

/**
 * `node dist/scripted-api/cli.js --scenario file.yaml [--port N] [--log file.ndjson]`
 * Prints `listening http://127.0.0.1:PORT` once ready, runs until SIGTERM or SIGINT, and notes on stderr every
 * request it had no route for. Exit codes: 0 after a signal, 2 for bad arguments or a bad scenario.
 */
const USAGE = 'usage: scripted-api --scenario FILE [--port N] [--log FILE]';

async function main(argv: string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if (typeof args === 'string') return fail(args);
  const server = await startScriptedServer({
    scenario: args.scenario,
    ...(args.port !== undefined && { port: args.port }),
    ...(args.log !== undefined && { logFile: args.log }),
    onRequest: (r) => {
      if (r.outcome === 'unknown_route') process.stderr.write(`scripted-api: unknown route ${r.method} ${r.path}\n`);
    },
  });
  process.stdout.write(`listening ${server.url}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  process.stderr.write(`scripted-api: stopped on ${signal} after ${server.requests.length} requests\n`);
  return 0;
}

function parseCliArgs(argv: string[]): { scenario: string; port?: number; log?: string } | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { scenario: { type: 'string' }, port: { type: 'string' }, log: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    return `${(err as Error).message}\n${USAGE}`;
  }
  if (values.scenario === undefined) return `--scenario is required\n${USAGE}`;
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) return `--port must be 0..65535, got ${values.port}`;
  return { scenario: values.scenario, ...(port !== undefined && { port }), ...(values.log !== undefined && { log: values.log }) };
}

function fail(message: string): number {
  process.stderr.write(`scripted-api: ${message}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ScenarioError) process.exit(fail(err.message));
    process.stderr.write(`scripted-api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
