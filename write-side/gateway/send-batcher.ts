/**
 * Group produce for the gateway. An idempotent producer keeps one request in
 * flight, so a send per HTTP request would queue behind each other. Instead,
 * records that arrive while a send is in flight wait and go together in the next
 * one: no delay when idle, larger batches under load (kafkajs has no linger).
 */
export function sendBatcher<T>(send: (items: T[]) => Promise<void>, maxBatch = 1000): (item: T) => Promise<void> {
  let queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let sending = false;

  async function drain(): Promise<void> {
    sending = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        await send(batch.map(({ item }) => item));
        for (const { resolve } of batch) resolve();
      } catch (error) {
        for (const { reject } of batch) reject(error);
      }
    }
    sending = false;
  }

  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!sending) void drain();
    });
}
