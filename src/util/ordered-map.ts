/**
 * Runs `fn` over `items` with at most `limit` calls in flight and yields the results in input order, each as
 * soon as it and all before it are done. A call that fails is thrown where its result would have been yielded,
 * never earlier (no unhandled rejection while an earlier one is awaited). When the consumer stops early (`break`,
 * an exception) or a call fails, no new call starts, the source is closed (a video's decoder ends), and the calls
 * already in flight are awaited before control returns: a caller that then frees what they use (a predictor's
 * sessions) does not pull it from under them.
 */
export async function* orderedMap<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): AsyncGenerator<R> {
  const it = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  const pending: Promise<R>[] = [];
  let index = 0,
    done = false;
  const fill = async () => {
    while (!done && pending.length < limit) {
      const n = await it.next();
      if (n.done) done = true;
      else {
        const p = fn(n.value, index++);
        p.catch(() => undefined); // handled when its turn comes (the await below)
        pending.push(p);
      }
    }
  };
  try {
    await fill();
    while (pending.length) {
      const r = await pending.shift()!;
      await fill();
      yield r;
    }
  } finally {
    if (!done) {
      done = true;
      await it.return?.();
    }
    await Promise.allSettled(pending);
  }
}
