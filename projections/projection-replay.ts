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
import type { ProjectionSink } from '../stores/projection-sink.js';
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

export interface ReplayOptions {
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
}

/** One replay under way: the version it builds and what it reads its progress with. */
interface ReplayRun {
  options: ReplayOptions;
  catalogue: ProjectionCatalogue;
  target: Projection;
  progress: () => Promise<PartitionProgress[]>;
  /** Whether the replay claim was lost (it expired and someone else took it). */
  claimLost: () => boolean;
}

/** The definition `requested` of `name`, or its newest. */
function chosenDefinition(definitions: readonly Projection[], name: string, requested: number | undefined): Projection {
  const defined = definitionsOf(definitions, name);
  const found =
    requested === undefined
      ? defined.reduce((a, b) => (b.version > a.version ? b : a))
      : defined.find((projection) => projection.version === requested);
  if (found === undefined) {
    throw new OperatorError(`${name} has no definition v${String(requested)}`, 'usage', `defined: ${defined.map((projection) => `v${String(projection.version)}`).join(', ')}`);
  }
  return found;
}

/** Runs `work` holding the replay claim of `name`, renewed every second; `claimLost` says whether it was lost meanwhile. */
async function holdingReplayClaim<T>(
  catalogue: ProjectionCatalogue,
  name: string,
  logger: Logger,
  work: (claimLost: () => boolean) => Promise<T>,
): Promise<T> {
  const owner = `${hostname()}:${String(process.pid)}:${String(Date.now())}`;
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
    return await work(() => claimLost);
  } finally {
    clearInterval(renewal);
    await catalogue.releaseReplay(name, owner).catch(() => undefined);
  }
}

/** Events a second over the last ten samples, and the seconds left at that rate. */
function catchUpRate(samples: { at: number; done: bigint }[], done: bigint, total: bigint) {
  samples.push({ at: Date.now(), done });
  while (samples.length > 10) samples.shift();
  const oldest = samples[0] ?? { at: Date.now(), done };
  const seconds = (Date.now() - oldest.at) / 1000;
  const eventsPerSecond = seconds > 0 ? Number(done - oldest.done) / seconds : 0;
  const etaSeconds = eventsPerSecond > 0 ? Number(total - done) / eventsPerSecond : undefined;
  return { eventsPerSecond, etaSeconds };
}

/** Whether the new version's checkpoints have reached the live version's on every partition. */
async function reachedLive(targetSink: ProjectionSink, liveSink: ProjectionSink | undefined): Promise<boolean> {
  const [ours, theirs] = await Promise.all([targetSink.checkpoints(), liveSink?.checkpoints() ?? new Map<number, bigint>()]);
  return [...theirs].every(([partition, offset]) => (ours.get(partition) ?? 0n) >= offset);
}

/**
 * Waits, reporting progress, until the new version has caught up with the live version
 * and the head; false if the replay was aborted first.
 */
async function catchUp(run: ReplayRun, first: readonly PartitionProgress[], targetSink: ProjectionSink, liveSink: ProjectionSink | undefined): Promise<boolean> {
  const { name, signal, onProgress } = run.options;
  const { version } = run.target;
  let previousEnds = new Map(first.map((entry) => [entry.partition, entry.end]));
  const samples: { at: number; done: bigint }[] = [];
  for (;;) {
    if (signal.aborted) return false;
    if (run.claimLost()) throw new OperatorError(`the replay claim of ${name} was lost`, 'failure', 'another replay may have taken over; check `strata projections status`');
    const progress = await run.progress();
    const done = sum(progress, (entry) => entry.committed);
    const total = sum(progress, (entry) => entry.end);
    onProgress({ name, version, done, total, ...catchUpRate(samples, done, total), phase: 'catching-up' });

    const headReached = progress.every((entry) => entry.committed >= (previousEnds.get(entry.partition) ?? 0n));
    if (headReached && (await reachedLive(targetSink, liveSink))) return true;
    previousEnds = new Map(progress.map((entry) => [entry.partition, entry.end]));
    await sleep(headReached ? 100 : 500, undefined, { signal }).catch(() => undefined);
  }
}

/** Makes the new version live and ends the replay in the catalogue; returns where the version then stands. */
async function swapLive(run: ReplayRun, previousLive: number | undefined): Promise<bigint> {
  const { name, logger, onProgress } = run.options;
  const { version } = run.target;
  await run.catalogue.makeLive(run.target);
  await run.catalogue.setReplayTarget(name, undefined);
  const endedAt = sum(await run.progress(), (entry) => entry.committed);
  onProgress({ name, version, done: endedAt, total: endedAt, eventsPerSecond: 0, etaSeconds: 0, phase: 'swapped' });
  logger.info({ projection: name, version, previousLive }, 'live version swapped');
  return endedAt;
}

/** Keeps the new version fed until a projector feeds it (it follows the pointer within a second); whether one did in time. */
async function handOver(run: ReplayRun, endedAt: bigint): Promise<boolean> {
  const { log, config, name, signal, onProgress } = run.options;
  const { version } = run.target;
  const handOverDeadline = Date.now() + (run.options.handOverMs ?? 15_000);
  let handedOver = false;
  while (!handedOver && Date.now() < handOverDeadline && !signal.aborted) {
    const members = await log.withAdmin((admin) => projectionConsumers(admin, config, run.target));
    handedOver = members.some((member) => member.clientId !== replayClientId);
    if (!handedOver) await sleep(250);
  }
  if (handedOver) onProgress({ name, version, done: endedAt, total: endedAt, eventsPerSecond: 0, etaSeconds: 0, phase: 'handed-over' });
  return handedOver;
}

/** Builds the new version beside the live one, swaps it in once caught up and hands it over to the projectors. */
async function buildAndSwap(
  options: ReplayOptions,
  catalogue: ProjectionCatalogue,
  definition: Projection,
  claimLost: () => boolean,
): Promise<ReplayResult | undefined> {
  const { log, config, logger, name } = options;
  const { version, resumed } = await targetVersion(catalogue, definition);
  const previousLive = await catalogue.liveVersion(definition);
  const target: Projection = { ...definition, version };
  const targetSink = sinkFor(config, target);
  const liveSink = previousLive === undefined || previousLive === version ? undefined : sinkFor(config, { ...definition, version: previousLive });
  const run: ReplayRun = { options, catalogue, target, claimLost, progress: () => log.withAdmin((admin) => projectionProgress(admin, config, target)) };
  const first = await run.progress();
  const startedAt = sum(first, (entry) => entry.committed);
  const began = Date.now();
  logger.info({ projection: name, version, definition: definition.version, resumed, from: startedAt.toString() }, resumed ? 'resuming the replay' : 'replay started');
  const build = await startProjectionBuild({ log, config, logger, projection: target, events: options.events });
  try {
    if (!(await catchUp(run, first, targetSink, liveSink))) return undefined;
    const endedAt = await swapLive(run, previousLive);
    const handedOver = await handOver(run, endedAt);
    return { name, version, definition: definition.version, previousLive, resumed, startedAt, endedAt, seconds: (Date.now() - began) / 1000, handedOver };
  } finally {
    await build.stop();
    await targetSink.close();
    await liveSink?.close();
  }
}

export async function replayProjection(options: ReplayOptions): Promise<ReplayResult | undefined> {
  const definition = chosenDefinition(options.definitions, options.name, options.definition);
  const catalogue = createProjectionCatalogue(options.config);
  try {
    return await holdingReplayClaim(catalogue, options.name, options.logger, (claimLost) => buildAndSwap(options, catalogue, definition, claimLost));
  } finally {
    await catalogue.close();
  }
}
