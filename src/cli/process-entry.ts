import type { Io } from './package.js';

/** Exit code for a bug of ours (BSD's EX_SOFTWARE): nothing the user did can cause it. */
const INTERNAL_ERROR = 70;

/**
 * Runs the command line as this process: `argv` (without node and the script), the real stdio, environment and
 * working directory; sets `process.exitCode` to what `main` returns. Output piped into `head` and closed early (EPIPE)
 * ends the process quietly; anything `main` throws is a bug and is printed as one, with its stack, exit 70.
 * The CLI loads only after the stream handlers are in place, so an error while loading is reported the same way.
 */
export function runAsProcess(argv: readonly string[] = process.argv.slice(2)): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const io: Io = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
  };
  import('./main.js')
    .then(({ main }) => main(argv, io))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        // Only a bug reaches here: say so plainly, with the stack for the report.
        process.stderr.write(`internal error (please report): ${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = INTERNAL_ERROR;
      },
    );
}
