/**
 * How the platform's long-lived consumers talk to their group and wait on fetches,
 * from the configured session timeout.
 */
import type { Config } from '../config.js';
import type { GroupConsumerOptions } from './log-client.js';

/** How often a group member tells the coordinator it is alive: a fifth of its session. */
const heartbeatIntervalMs = (config: Pick<Config, 'kafka'>) => Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 5));

/**
 * How long the broker holds a fetch that finds nothing new. A fetch returns as soon
 * as a record is there (a committed one for read_committed: the commit marker wakes
 * it), so a long wait costs no latency, while a short one makes every idle consumer
 * ask the broker many times a second. A member heartbeats between fetches, so it
 * learns of a rebalance at its first heartbeat after a fetch: a wait as long as the
 * heartbeat interval delays that by no more than the interval already does.
 */
export const fetchWaitMs = (config: Pick<Config, 'kafka'>) => heartbeatIntervalMs(config);

export const groupMember = (
  config: Pick<Config, 'kafka'>,
  groupId: string,
): Pick<GroupConsumerOptions, 'groupId' | 'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'maxWaitMs'> => ({
  groupId,
  sessionTimeoutMs: config.kafka.sessionTimeoutMs,
  heartbeatIntervalMs: heartbeatIntervalMs(config),
  maxWaitMs: fetchWaitMs(config),
});

/**
 * A member for whom a little delay is cheap (an Elasticsearch projection, whose writes
 * are searchable only at the index's next refresh anyway; a saga): at a steady rate,
 * every event otherwise woke each such reader on its own, a fetch, a batch and a store
 * write per event. It gathers them for `STRATA_GATHER_MS` instead (GroupConsumerOptions).
 */
export const gatheringMember = (config: Pick<Config, 'kafka'>, groupId: string): ReturnType<typeof groupMember> & Pick<GroupConsumerOptions, 'gatherMs'> => ({
  ...groupMember(config, groupId),
  gatherMs: config.kafka.gatherMs,
});
