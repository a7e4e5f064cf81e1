/**
 * A processor's side of the status topic: the record of each partition it holds,
 * sent on every change (rebuild progress at most twice a second) and again every
 * `statusRefreshMs` so that readers can tell a live owner from a dead one.
 *
 * Status is advice for readiness and operators, never a guarantee: ownership itself
 * is decided by the consumer group and enforced by fencing.
 */
import { hostname } from 'node:os';
import type { Config } from '../../shared/config.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import { writeSideTopics } from '../../shared/topics.js';
import { encodeStatus, statusRefreshMs, type OwnerPhase, type PartitionStatus } from './partition-status.js';

export type StatusDetail = Partial<Pick<PartitionStatus, 'checkpoint' | 'rebuilt' | 'rebuildEnd' | 'replayed' | 'error'>>;

export interface StatusPublisher {
  /** The partition enters `phase`; details of the attempt so far are kept unless replaced, and `fencing` begins a new attempt. */
  phase(partition: number, phase: OwnerPhase, detail?: StatusDetail): void;
  /** Rebuild progress; sent at most twice a second. */
  progress(partition: number, detail: StatusDetail): void;
  /** The partition is no longer this process's: says so once, then forgets it. */
  release(partition: number): void;
  stop(): Promise<void>;
}

const progressEveryMs = 500;

/** `address`: where this process takes commands directly, announced with every partition it holds. */
export async function startStatusPublisher(log: LogClient, config: Config, logger: Logger, address?: string): Promise<StatusPublisher> {
  const topic = writeSideTopics(config).status;
  const owner = `${hostname()}:${process.pid}`;
  // Records land in the order sent, even across retries (idempotent producer), so a refresh
  // sent before a release can never land after it.
  const producer = await log.producer();
  const held = new Map<number, PartitionStatus>();
  const lastProgress = new Map<number, number>();
  const inFlight = new Set<Promise<unknown>>();

  const send = (statuses: PartitionStatus[]) => {
    if (statuses.length === 0) return;
    const at = new Date().toISOString();
    const sent = producer
      .send(topic, statuses.map((status) => encodeStatus({ ...status, at })))
      .catch((error: unknown) => { logger.warn({ err: error }, 'could not publish the partition status'); })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };
  const refresh = setInterval(() => { send([...held.values()]); }, statusRefreshMs(config));
  refresh.unref();

  return {
    phase(partition, phase, detail = {}) {
      const now = new Date().toISOString();
      const previous = phase === 'fencing' ? undefined : held.get(partition);
      const status: PartitionStatus = { ...previous, partition, owner, ...(address === undefined ? {} : { address }), phase, since: now, at: now, ...detail };
      if (phase !== 'failed') delete status.error;
      held.set(partition, status);
      send([status]);
    },
    progress(partition, detail) {
      const status = held.get(partition);
      if (status === undefined) return;
      Object.assign(status, detail);
      const now = Date.now();
      if (now - (lastProgress.get(partition) ?? 0) < progressEveryMs) return;
      lastProgress.set(partition, now);
      send([status]);
    },
    release(partition) {
      const status = held.get(partition);
      held.delete(partition);
      lastProgress.delete(partition);
      if (status !== undefined) send([{ ...status, phase: 'released', since: new Date().toISOString() }]);
    },
    async stop() {
      clearInterval(refresh);
      await Promise.all(inFlight);
      await producer.stop();
    },
  };
}
