import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that a reader (or a crash at any instant) sees either the old content or the new, never a
 * mix: write a temporary file beside it, flush it to disk, rename over the target, then flush the directory.
 */
export async function writeFileAtomic(file: string, content: string, opts: { tmpDir?: string } = {}): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  // A file in the user's working tree gets its temporary file elsewhere (same filesystem, so rename stays
  // atomic): a crash mid-write must not leave a stray file in their `git status`.
  const tmpDir = opts.tmpDir ?? dir;
  if (opts.tmpDir) await mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/** Flushes a directory's entries (a rename or a new file in it) to disk; best effort where directories cannot be opened. */
export async function syncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename itself durable; not every platform allows opening a directory.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort (Windows) */
  }
}

/**
 * Serialises writes to one file from one process: the last state always lands last, even when callers fire
 * saves without awaiting each other.
 */
export class AtomicWriter {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly file: string) {}

  write(content: string): Promise<void> {
    const next = this.chain.then(() => writeFileAtomic(this.file, content));
    this.chain = next.catch(() => undefined);
    return next;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
