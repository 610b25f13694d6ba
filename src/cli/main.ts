#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { packageVersion, type Io } from './package.js';
import { runAsProcess } from './process-entry.js';

export type { Io } from './package.js';

/**
 * The command line: `argv` without node and the script, `io` for the streams, environment and working directory.
 * Returns the exit code (exit-codes.ts). Each command loads only when chosen, so `--version`, `--help` and a usage
 * error answer without loading the engine, the config loader or the markdown parser.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const version = packageVersion();
  const args = parseArgs(argv, version, io.cwd, io.env.ORCHESTRATE_HELP_COMMAND);
  if (args.kind === 'exit') {
    if (args.stdout) io.stdout(args.stdout);
    if (args.stderr) io.stderr(args.stderr);
    return args.code;
  }
  const options = args.options;
  switch (options.command) {
    case 'run':
      return (await import('./commands/run.js')).runCommand(options, io);
    case 'status':
      return (await import('./commands/status.js')).statusCommand(options, io);
    case 'clean':
      return (await import('./commands/clean.js')).cleanCommand(options, io);
    case 'accept':
      return (await import('./commands/accept.js')).acceptCommand(options, io);
    case 'retry':
      return (await import('./commands/retry.js')).retryCommand(options, io);
    case 'init':
      return (await import('./commands/init.js')).initCommand(options, io);
    default: {
      const never: never = options;
      return never;
    }
  }
}

// `node dist/cli/main.js …` (older scripts and tests) still runs; the installed command is bin.ts. Both paths are
// resolved through symlinks, so a linked copy of this file counts as itself.
if (process.argv[1] !== undefined && isSameFile(process.argv[1], fileURLToPath(import.meta.url))) runAsProcess();

function isSameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
