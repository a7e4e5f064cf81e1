/**
 * What `strata projections list|status` report, and `drop`: every stored version
 * of each projection, with its checkpoint, committed offsets and lag per partition,
 * and its state:
 * - `live`: queries read it and a projector feeds it;
 * - `replaying`: a replay is building it;
 * - `stopped`: nothing feeds it (a retired version kept until dropped, or a live one
 *   whose projectors are not running).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../shared/config.js';
import { OperatorError } from '../shared/errors.js';
import type { LogAdmin, LogClient } from '../shared/kafka/log-client.js';
import { elasticsearchNames } from '../stores/elasticsearch/elasticsearch-layout.js';
import { redisNamespace } from '../stores/redis/redis-layout.js';
import { createProjectionCatalogue } from './projection-catalogue.js';
import { projectionGroup, projectionProgress, totalLag } from './projection-progress.js';
import type { Projection } from './projection.js';
import { projectionConsumers } from './projection-feed.js';
import { sinkFor } from './projection-runner.js';

export type VersionState = 'live' | 'replaying' | 'stopped';

export interface PartitionStatus {
  partition: number;
  /** The store's checkpoint: every event before it is stored (searchable, in Elasticsearch). */
  checkpoint: string;
  /** The consumer group's committed offset. */
  committed: string;
  end: string;
  lag: string;
}

export interface VersionStatus {
  version: number;
  /** The definition (code version) that builds it. */
  definition: number;
  live: boolean;
  state: VersionState;
  /** The Elasticsearch index or the Redis key prefix. */
  storage: string;
  group: string;
  consumers: number;
  lag: string;
  /** Offsets committed per second over the sampling interval (0 with no interval). */
  eventsPerSecond: number;
  partitions: PartitionStatus[];
}

export interface ProjectionStatus {
  name: string;
  store: Projection['store'];
  description: string;
  /** Versions defined in this build of Strata. */
  definitions: number[];
  live: number | null;
  versions: VersionStatus[];
}

const storageOf = (config: Config, projection: Projection) =>
  projection.store === 'redis' ? redisNamespace(config, projection).prefix : elasticsearchNames(config, projection).index;

/** Resolves the projection `name` among `definitions`, or throws the usage error naming the known ones. */
export function definitionsOf(definitions: readonly Projection[], name: string): Projection[] {
  const found = definitions.filter((projection) => projection.name === name);
  if (found.length === 0) {
    const known = [...new Set(definitions.map((projection) => projection.name))].join(', ');
    throw new OperatorError(`unknown projection ${name}`, 'usage', `known projections: ${known}`);
  }
  return found;
}

export async function projectionStatus(options: {
  log: LogClient;
  config: Config;
  definitions: readonly Projection[];
  /** Only these projections (default: all). */
  names?: readonly string[];
  /** Sample offsets twice, this far apart, for events/s (0: no rate). */
  sampleMs: number;
}): Promise<ProjectionStatus[]> {
  const { log, config, definitions } = options;
  const names = options.names ?? [...new Set(definitions.map((projection) => projection.name))];
  const catalogue = createProjectionCatalogue(config);
  try {
    return await log.withAdmin(async (admin) => {
      const result: ProjectionStatus[] = [];
      for (const name of names) {
        const defined = definitionsOf(definitions, name);
        const newest = defined.reduce((a, b) => (b.version > a.version ? b : a));
        const live = await catalogue.liveVersion(newest);
        const builds = await catalogue.builds(name);
        const replaying = (await catalogue.replayOwner(name)) === undefined ? undefined : await catalogue.replayTarget(name);
        const versions = [...new Set([...builds.keys(), ...(live === undefined ? [] : [live])])].sort((a, b) => a - b);
        result.push({
          name,
          store: newest.store,
          description: newest.description,
          definitions: defined.map((projection) => projection.version).sort((a, b) => a - b),
          live: live ?? null,
          versions: await Promise.all(
            versions.map((version) =>
              versionStatus(admin, config, { ...newest, version }, { definition: builds.get(version) ?? version, live: version === live, replaying: version === replaying, sampleMs: options.sampleMs }),
            ),
          ),
        });
      }
      return result;
    });
  } finally {
    await catalogue.close();
  }
}

async function versionStatus(
  admin: LogAdmin,
  config: Config,
  projection: Projection,
  facts: { definition: number; live: boolean; replaying: boolean; sampleMs: number },
): Promise<VersionStatus> {
  const group = projectionGroup(config, projection);
  const sink = sinkFor(config, projection);
  try {
    const before = await projectionProgress(admin, config, projection);
    if (facts.sampleMs > 0) await sleep(facts.sampleMs);
    const progress = facts.sampleMs > 0 ? await projectionProgress(admin, config, projection) : before;
    const [checkpoints, members] = await Promise.all([sink.checkpoints(), projectionConsumers(admin, config, projection)]);
    const consumers = members.length;
    const moved = progress.reduce((total, entry, index) => total + Number(entry.committed - (before[index]?.committed ?? entry.committed)), 0);
    return {
      version: projection.version,
      definition: facts.definition,
      live: facts.live,
      state: facts.replaying ? 'replaying' : facts.live && consumers > 0 ? 'live' : 'stopped',
      storage: storageOf(config, projection),
      group,
      consumers,
      lag: totalLag(progress).toString(),
      eventsPerSecond: facts.sampleMs > 0 ? Math.round((moved * 1000) / facts.sampleMs) : 0,
      partitions: progress.map((entry) => ({
        partition: entry.partition,
        checkpoint: (checkpoints.get(entry.partition) ?? 0n).toString(),
        committed: entry.committed.toString(),
        end: entry.end.toString(),
        lag: entry.lag.toString(),
      })),
    };
  } finally {
    await sink.close();
  }
}

/**
 * Deletes a stored version that is neither live nor being replayed: its documents
 * or index, its checkpoints, its consumer group and its catalogue entry.
 */
export async function dropVersion(options: { log: LogClient; config: Config; definitions: readonly Projection[]; name: string; version: number }): Promise<void> {
  const { log, config, name, version } = options;
  const [definition] = definitionsOf(options.definitions, name);
  if (definition === undefined) return;
  const projection: Projection = { ...definition, version };
  const catalogue = createProjectionCatalogue(config);
  try {
    if ((await catalogue.liveVersion(projection)) === version) {
      throw new OperatorError(`v${String(version)} of ${name} is live`, 'conflict', `replay ${name} to make another version live first: strata projections replay ${name}`);
    }
    const replaying = (await catalogue.replayTarget(name)) === version;
    if (replaying && (await catalogue.replayOwner(name)) !== undefined) {
      throw new OperatorError(`a replay is building v${String(version)} of ${name}`, 'conflict', 'stop the replay first (Ctrl-C)');
    }
    const builds = await catalogue.builds(name);
    const group = projectionGroup(config, projection);
    const groupExists = await log.withAdmin(async (admin) => (await admin.listGroups()).includes(group));
    if (!builds.has(version) && !groupExists) {
      throw new OperatorError(`${name} has no stored v${String(version)}`, 'usage', `see its versions: strata projections status ${name}`);
    }
    await catalogue.dropStorage(projection);
    if (replaying) await catalogue.setReplayTarget(name, undefined);
    if (groupExists) await log.withAdmin((admin) => admin.deleteGroups([group]));
  } finally {
    await catalogue.close();
  }
}
