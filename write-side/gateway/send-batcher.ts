/**
 * Group sends for the gateway, with at most `maxInFlight` sends under way per batcher.
 * Items that arrive while the sends are under way wait and go together in the next
 * one: no delay when idle, larger batches under load (kafkajs has no linger, and a gRPC
 * call per command costs more than the work it carries). The send answers each item of
 * its batch, in order.
 */
export function sendBatcher<T, R = void>(
  send: (items: T[]) => Promise<R[]>,
  options: { maxBatch?: number; maxInFlight?: number } = {},
): (item: T) => Promise<R> {
  const { maxBatch = 1000, maxInFlight = 1 } = options;
  let queue: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;

  async function drain(): Promise<void> {
    inFlight += 1;
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        const results = await send(batch.map(({ item }) => item));
        batch.forEach(({ resolve }, index) => { resolve(results[index] as R); });
      } catch (error) {
        for (const { reject } of batch) reject(error);
      }
    }
    inFlight -= 1;
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (inFlight < maxInFlight) void drain();
    });
}
