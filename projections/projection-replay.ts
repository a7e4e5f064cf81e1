/**
 * A blue-green replay: a projection rebuilt from offset 0 into a new version (its
 * own consumer group, index or key namespace) while queries keep reading the live
 * one; once the new version has caught up, the live pointer swaps to it in one
 * atomic operation and the projectors follow it. The old version stays until
 * dropped.
 *
 * Caught up means: on every partition the new version's checkpoint has reached the
 * live version's (nothing a query sees now would be missing after the swap) and
 * its committed offset has reached where the head was a moment before.
 *
 * A replay holds a claim in the catalogue, renewed every second, so a second one
 * is refused while it runs; a replay killed outright loses its claim within
 * seconds, and run again it resumes its version from that version's checkpoint.
 */
import type { EventCatalog } from '../shared/event-schemas.js';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../shared/config.js';
import { OperatorError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import { createProjectionCatalogue, type ProjectionCatalogue } from './projection-catalogue.js';
import { projectionProgress, type PartitionProgress } from './projection-progress.js';
import { definitionsOf } from './projection-status.js';
import type { Projection } from './projection.js';
import { projectionConsumers } from './projection-feed.js';
import { sinkFor } from './projection-runner.js';
import { startProjectionBuild } from './projector.js';

export interface ReplayProgress {
  name: string;
  version: number;
  /** Offsets stored so far, over the whole topic, and where the head is. */
  done: bigint;
  total: bigint;
  eventsPerSecond: number;
  /** Seconds left at the current rate; undefined before a rate is known. */
  etaSeconds: number | undefined;
  phase: 'catching-up' | 'swapped' | 'handed-over';
}

export interface ReplayResult {
  name: string;
  version: number;
  definition: number;
  previousLive: number | undefined;
  resumed: boolean;
  /** Where the replay started (0 unless resumed) and ended, in offsets over all partitions. */
  startedAt: bigint;
  endedAt: bigint;
  seconds: number;
  /** Whether a running projector took the new version over before the replay stopped. */
  handedOver: boolean;
}

/** The client id replays consume with: a projector is any other member of the group. */
export const replayClientId = 'strata-replay';

/** Picks the version to build: an unfinished replay's, else the definition's own number if free, else the next. */
async function targetVersion(catalogue: ProjectionCatalogue, definition: Projection): Promise<{ version: number; resumed: boolean }> {
  const { name } = definition;
  const unfinished = await catalogue.replayTarget(name);
  if (unfinished !== undefined) {
    const builtBy = await catalogue.definitionOf(name, unfinished);
    if (builtBy !== definition.version) {
      throw new OperatorError(
        `an unfinished replay of ${name} is building v${String(unfinished)} with definition v${String(builtBy)}, not v${String(definition.version)}`,
        'conflict',
        `finish it with --definition ${String(builtBy)}, or drop it: strata projections drop ${name} --version ${String(unfinished)}`,
      );
    }
    return { version: unfinished, resumed: true };
  }
  const live = await catalogue.liveVersion(definition);
  const known = [...(await catalogue.builds(name)).keys(), ...(live === undefined ? [] : [live])];
  const highest = Math.max(0, ...known);
  const version = definition.version > highest ? definition.version : highest + 1;
  await catalogue.recordBuild(name, version, definition.version);
  await catalogue.setReplayTarget(name, version);
  return { version, resumed: false };
}

const sum = (progress: readonly PartitionProgress[], pick: (entry: PartitionProgress) => bigint) =>
  progress.reduce((total, entry) => total + pick(entry), 0n);

export async function replayProjection(options: {
  log: LogClient;
  config: Config;
  logger: Logger;
  definitions: readonly Projection[];
  /** The app's event types: the replay sees events upcast, as the live projector does. */
  events: EventCatalog;
  name: string;
  /** The definition to build; the newest when omitted. */
  definition?: number;
  onProgress: (progress: ReplayProgress) => void;
  /** Aborting stops the replay where it is; run again, it resumes. */
  signal: AbortSignal;
  /** How long to wait after the swap for a running projector to take the new version over. */
  handOverMs?: number;
}): Promise<ReplayResult | undefined> {
  const { log, config, logger, name, signal } = options;
  const defined = definitionsOf(options.definitions, name);
  const found =
    options.definition === undefined
      ? defined.reduce((a, b) => (b.version > a.version ? b : a))
      : defined.find((projection) => projection.version === options.definition);
  if (found === undefined) {
    throw new OperatorError(`${name} has no definition v${String(options.definition)}`, 'usage', `defined: ${defined.map((projection) => `v${String(projection.version)}`).join(', ')}`);
  }

  const definition: Projection = found;
  const catalogue = createProjectionCatalogue(config);
  const owner = `${hostname()}:${String(process.pid)}:${String(Date.now())}`;
  try {
    if (!(await catalogue.claimReplay(name, owner))) {
      throw new OperatorError(
        `a replay of ${name} is already running (${(await catalogue.replayOwner(name)) ?? 'owner unknown'})`,
        'conflict',
        'wait for it to finish, or stop it (Ctrl-C); a replay killed outright frees its claim within 5 s',
      );
    }
    let claimLost = false;
    const renewal = setInterval(() => {
      catalogue.renewReplay(name, owner).then(
        (held) => { if (!held) claimLost = true; },
        (error: unknown) => { logger.warn({ err: error }, 'could not renew the replay claim'); },
      );
    }, 1_000);
    try {
      return await run();
    } finally {
      clearInterval(renewal);
      await catalogue.releaseReplay(name, owner).catch(() => undefined);
    }

    async function run(): Promise<ReplayResult | undefined> {
      const { version, resumed } = await targetVersion(catalogue, definition);
      const previousLive = await catalogue.liveVersion(definition);
      const target: Projection = { ...definition, version };
      const targetSink = sinkFor(config, target);
      const liveSink = previousLive === undefined || previousLive === version ? undefined : sinkFor(config, { ...definition, version: previousLive });
      const progressOf = () => log.withAdmin((admin) => projectionProgress(admin, config, target));
      const first = await progressOf();
      const startedAt = sum(first, (entry) => entry.committed);
      const began = Date.now();
      logger.info({ projection: name, version, definition: definition.version, resumed, from: startedAt.toString() }, resumed ? 'resuming the replay' : 'replay started');
      const build = await startProjectionBuild({ log, config, logger, projection: target, events: options.events });
      let stopped = false;
      const stopBuild = async () => {
        if (stopped) return;
        stopped = true;
        await build.stop();
      };
      try {
        // Catch up, reporting progress, until caught up with the live version and the head.
        let previousEnds = new Map(first.map((entry) => [entry.partition, entry.end]));
        const samples: { at: number; done: bigint }[] = [];
        for (;;) {
          if (signal.aborted) return undefined;
          if (claimLost) throw new OperatorError(`the replay claim of ${name} was lost`, 'failure', 'another replay may have taken over; check `strata projections status`');
          const progress = await progressOf();
          const done = sum(progress, (entry) => entry.committed);
          const total = sum(progress, (entry) => entry.end);
          samples.push({ at: Date.now(), done });
          while (samples.length > 10) samples.shift();
          const oldest = samples[0] ?? { at: Date.now(), done };
          const seconds = (Date.now() - oldest.at) / 1000;
          const eventsPerSecond = seconds > 0 ? Number(done - oldest.done) / seconds : 0;
          const etaSeconds = eventsPerSecond > 0 ? Number(total - done) / eventsPerSecond : undefined;
          options.onProgress({ name, version, done, total, eventsPerSecond, etaSeconds, phase: 'catching-up' });

          const headReached = progress.every((entry) => entry.committed >= (previousEnds.get(entry.partition) ?? 0n));
          if (headReached) {
            const [ours, theirs] = await Promise.all([targetSink.checkpoints(), liveSink?.checkpoints() ?? new Map<number, bigint>()]);
            if ([...theirs].every(([partition, offset]) => (ours.get(partition) ?? 0n) >= offset)) break;
          }
          previousEnds = new Map(progress.map((entry) => [entry.partition, entry.end]));
          await sleep(headReached ? 100 : 500, undefined, { signal }).catch(() => undefined);
        }

        await catalogue.makeLive(target);
        await catalogue.setReplayTarget(name, undefined);
        const endedAt = sum(await progressOf(), (entry) => entry.committed);
        options.onProgress({ name, version, done: endedAt, total: endedAt, eventsPerSecond: 0, etaSeconds: 0, phase: 'swapped' });
        logger.info({ projection: name, version, previousLive }, 'live version swapped');

        // Keep the new version fed until a projector feeds it (it follows the pointer within a second).
        const handOverDeadline = Date.now() + (options.handOverMs ?? 15_000);
        let handedOver = false;
        // (A function: TypeScript would keep `signal.aborted` narrowed to false from the loop above.)
        const aborted = () => signal.aborted;
        while (!handedOver && Date.now() < handOverDeadline && !aborted()) {
          const members = await log.withAdmin((admin) => projectionConsumers(admin, config, target));
          handedOver = members.some((member) => member.clientId !== replayClientId);
          if (!handedOver) await sleep(250);
        }
        if (handedOver) options.onProgress({ name, version, done: endedAt, total: endedAt, eventsPerSecond: 0, etaSeconds: 0, phase: 'handed-over' });
        return { name, version, definition: definition.version, previousLive, resumed, startedAt, endedAt, seconds: (Date.now() - began) / 1000, handedOver };
      } finally {
        await stopBuild();
        await targetSink.close();
        await liveSink?.close();
      }
    }
  } finally {
    await catalogue.close();
  }
}
