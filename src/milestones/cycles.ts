export interface Cycle<T> {
  /** The cycle, starting at its smallest member: path[0] -> path[1] -> ... -> path[0]. */
  path: T[];
  /** Other members of the same tangle (strongly connected component) not on this path. */
  others: T[];
}

/**
 * One cycle per strongly connected component: reporting every elementary cycle of a tangle would be
 * exponential and unreadable, while breaking the reported one and re-running shows the next.
 * Self-loops are ignored (callers report those on their own). Deterministic for a given `compare`.
 */
export function findCycles<T>(edges: ReadonlyMap<T, readonly T[]>, compare: (a: T, b: T) => number): Cycle<T>[] {
  return stronglyConnectedComponents(edges)
    .filter((component) => component.length > 1)
    .map((component) => {
      const members = new Set(component);
      const start = [...component].sort(compare)[0] as T;
      const path = shortestCycleThrough(start, edges, members);
      const onPath = new Set(path);
      return { path, others: component.filter((id) => !onPath.has(id)).sort(compare) };
    })
    .sort((a, b) => compare(a.path[0] as T, b.path[0] as T));
}

/** Breadth-first from `start` back to itself, staying inside the component: the shortest loop, in edge order. */
function shortestCycleThrough<T>(start: T, edges: ReadonlyMap<T, readonly T[]>, members: ReadonlySet<T>): T[] {
  const cameFrom = new Map<T, T>();
  const queue: T[] = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as T;
    for (const next of edges.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) return unwind(node, start, cameFrom);
      if (cameFrom.has(next)) continue;
      cameFrom.set(next, node);
      queue.push(next);
    }
  }
  return [start];
}

function unwind<T>(last: T, start: T, cameFrom: ReadonlyMap<T, T>): T[] {
  const path = [last];
  let node = last;
  while (node !== start) {
    node = cameFrom.get(node) as T;
    path.unshift(node);
  }
  return path;
}

/** Tarjan's algorithm, iterative so deep chains cannot overflow the stack. */
function stronglyConnectedComponents<T>(edges: ReadonlyMap<T, readonly T[]>): T[][] {
  const index = new Map<T, number>();
  const lowLink = new Map<T, number>();
  const onStack = new Set<T>();
  const stack: T[] = [];
  const components: T[][] = [];
  let counter = 0;

  for (const root of edges.keys()) {
    if (index.has(root)) continue;
    const work: { node: T; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    lowLink.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: T; next: number };
      const targets = edges.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++] as T;
        if (!index.has(target)) {
          index.set(target, counter);
          lowLink.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          lowLink.set(frame.node, Math.min(lowLink.get(frame.node) ?? 0, index.get(target) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) lowLink.set(parent.node, Math.min(lowLink.get(parent.node) ?? 0, lowLink.get(frame.node) ?? 0));
      if (lowLink.get(frame.node) === index.get(frame.node)) {
        const component: T[] = [];
        let member: T;
        do {
          member = stack.pop() as T;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}
