/**
 * Splits records into sends that each stay under a byte budget.
 *
 * kafkajs puts all the records of one send to one partition into a single record
 * batch, and the broker refuses a batch larger than the topic's `max.message.bytes`
 * (1 MiB by default) with a non-retriable error. A command processor that decided a
 * full fetch of commands would write more than that in events, fail, take the
 * partition again and fail on the same batch for ever; each chunk here becomes a
 * send of its own inside the same transaction.
 */
import type { Message } from 'kafkajs';

/** Well under the broker's default 1 MiB, leaving room for record and batch overhead. */
export const sendBudgetBytes = 512 * 1024;

const sizeOf = (value: Message['key'] | Message['value']): number =>
  value === null || value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;

function messageBytes(message: Message): number {
  let bytes = sizeOf(message.key) + sizeOf(message.value) + 64;
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += Buffer.byteLength(name) + (Array.isArray(value) ? value.reduce((sum, item) => sum + sizeOf(item), 0) : sizeOf(value));
  }
  return bytes;
}

/** Consecutive chunks of `messages`, in order; a record larger than the budget is a chunk alone. */
export function chunkMessages(messages: readonly Message[], budgetBytes = sendBudgetBytes): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (current.length > 0 && bytes + size > budgetBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
