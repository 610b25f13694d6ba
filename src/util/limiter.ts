/**
 * At most `max` of the wrapped async operations run at once; the rest wait in order. Tree walks queue thousands of
 * file-system calls: this keeps the open file handles and pending promises bounded (libuv itself runs 4 at a time).
 */
export function createLimiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    active--;
    queue.shift()?.();
  };
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      release();
    }
  };
}
