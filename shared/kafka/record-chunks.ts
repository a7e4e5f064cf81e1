/**
 * Splits records into sends that each stay under a byte budget.
 *
 * A client puts the records of one send to one partition into a single record batch,
 * and the broker refuses a batch larger than the topic's `max.message.bytes` (1 MiB
 * by default) with a non-retriable error. A command processor that decided a full
 * fetch of commands would write more than that in events, fail, take the partition
 * again and fail on the same batch for ever; each chunk here becomes a send of its
 * own inside the same transaction.
 */
import type { OutgoingRecord } from './log-client.js';

/** Well under the broker's default 1 MiB, leaving room for record and batch overhead. */
export const sendBudgetBytes = 512 * 1024;

const sizeOf = (value: string | Buffer | null): number =>
  value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;

function recordBytes(record: OutgoingRecord): number {
  let bytes = sizeOf(record.key) + sizeOf(record.value) + 64;
  for (const [name, value] of Object.entries(record.headers ?? {})) bytes += Buffer.byteLength(name) + sizeOf(value);
  return bytes;
}

/** Consecutive chunks of `records`, in order; a record larger than the budget is a chunk alone. */
export function chunkRecords<Record extends OutgoingRecord>(records: readonly Record[], budgetBytes = sendBudgetBytes): Record[][] {
  const chunks: Record[][] = [];
  let current: Record[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (current.length > 0 && bytes + size > budgetBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
