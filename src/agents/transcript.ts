import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Redactor } from './redact.js';

/** Separates the stdout lines from the stderr that follows them at the end of a transcript. */
export const STDERR_MARKER = '--- stderr ---';

/**
 * The raw transcript of one run: every stdout line as it arrives, then stderr. Written synchronously line by line so
 * that whatever was seen is on disk even if the orchestrator dies mid-run. A write error stops further writes (the run
 * itself goes on) and is reported through `error`.
 */
export class TranscriptWriter {
  error?: Error;
  private fd: number | undefined;

  private constructor(
    fd: number,
    private readonly redact: Redactor,
  ) {
    this.fd = fd;
  }

  /** Creates parent directories and opens for appending. Throws if that fails. */
  static open(path: string, redact: Redactor): TranscriptWriter {
    mkdirSync(dirname(path), { recursive: true });
    return new TranscriptWriter(openSync(path, 'a'), redact);
  }

  line(text: string): void {
    this.write(`${this.redact(text)}\n`);
  }

  stderr(text: string): void {
    if (text === '') return;
    this.write(`${STDERR_MARKER}\n${this.redact(text)}${text.endsWith('\n') ? '' : '\n'}`);
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Closing can only fail if the fd is already bad; the data written so far is what it is.
    }
    this.fd = undefined;
  }

  private write(data: string): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, data);
    } catch (err) {
      this.error = err as Error;
      this.close();
    }
  }
}
