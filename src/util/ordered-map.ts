/**
 * Runs `fn` over `items` with at most `limit` calls in flight and yields the results in input order, each as
 * soon as it and all before it are done.
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
      else pending.push(fn(n.value, index++));
    }
  };
  await fill();
  while (pending.length) {
    const r = await pending.shift()!;
    await fill();
    yield r;
  }
}
