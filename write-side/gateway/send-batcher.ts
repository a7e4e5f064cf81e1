/**
 * Group sends for the gateway, with one send in flight per batcher. Items that
 * arrive while a send is in flight wait and go together in the next one: no delay
 * when idle, larger batches under load (kafkajs has no linger, and a gRPC call per
 * command costs more than the work it carries). The send answers each item of its
 * batch, in order.
 */
export function sendBatcher<T, R = void>(send: (items: T[]) => Promise<R[]>, maxBatch = 1000): (item: T) => Promise<R> {
  let queue: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  let sending = false;

  async function drain(): Promise<void> {
    sending = true;
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
    sending = false;
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!sending) void drain();
    });
}
