/**
 * fn over every item with at most `limit` calls running at once; results in the items' order.
 * On a failure no new call starts, the running ones are awaited (so no child process outlives
 * the call), and the first error is thrown.
 */
export async function mapInParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const lane = async () => {
    while (!failed && next < items.length) {
      const k = next++;
      try {
        results[k] = await fn(items[k]!, k);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failed) throw failed.error;
  return results;
}
