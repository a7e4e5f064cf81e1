/**
 * What an operator does with dead letters: retry them after a fix, or drop them.
 *
 * A retry re-applies the letters' events to the version of the projection they
 * were dead-lettered from, with the definition the running code has for it (the
 * fixed one), through the same plan and compare-and-set store as the projector.
 * An aggregate's open letters go together, in version order: its later events
 * were held back behind the first (batch-plan.ts), and the projector does not
 * touch a held aggregate, so nothing races the retry for its document. Only once
 * the documents are stored is each letter resolved in the topic, which is what
 * releases the aggregate to the projector; a letter whose event fails again is
 * written anew with its new error and stays open.
 */
import type { Config } from '../shared/config.js';
import { decodeEvent, type EventEnvelope } from '../shared/event-envelope.js';
import type { EventCatalog } from '../shared/event-schemas.js';
import { OperatorError } from '../shared/errors.js';
import type { LogClient, OutgoingRecord } from '../shared/kafka/log-client.js';
import { projectionId } from '../shared/projection-id.js';
import { documentIdOf, planBatch } from './batch-plan.js';
import { readDeadLetters } from './dead-letter-log.js';
import { deadLetterTopic, encodeDeadLetter, encodeResolution, type DeadLetter, type DeadLetterBook, type DeadLetterEntry, type Resolution } from './dead-letters.js';
import { createProjectionCatalogue, type ProjectionCatalogue } from './projection-catalogue.js';
import type { Projection } from './projection.js';
import { sinkFor } from './projection-runner.js';

export interface LetterOutcome {
  id: string;
  /** `retried`: applied now; `already-applied`: the document had it; `failed`: still open, see `error`. */
  outcome: 'retried' | 'already-applied' | 'failed' | 'dropped';
  error?: string;
}

/** Compare-and-set rounds before giving up on a document that keeps changing. */
const maxRounds = 5;

function chosenLetters(book: DeadLetterBook, ids: readonly string[] | 'all', filter: { projection?: string; tenant?: string } = {}): DeadLetterEntry[] {
  if (ids === 'all') {
    return book
      .entries()
      .filter(
        (entry) =>
          entry.resolution === undefined &&
          (filter.projection === undefined || entry.letter.projection === filter.projection) &&
          (filter.tenant === undefined || entry.letter.event?.tenant === filter.tenant),
      );
  }
  return ids.map((id) => {
    const entry = book.get(id);
    if (entry === undefined) throw new OperatorError(`no dead letter ${id}`, 'usage', 'strata dlq list shows the open ones');
    if (entry.resolution !== undefined) {
      throw new OperatorError(`dead letter ${id} was already ${entry.resolution.resolution} (${entry.resolution.resolvedAt})`, 'conflict', 'strata dlq show ID tells its history');
    }
    return entry;
  });
}

/**
 * A letter's event, upcast to its current version: the one it carries, or its raw
 * record decoded again (a decoder fix); an Error when neither can be read.
 */
function eventOf(letter: DeadLetter, catalog: EventCatalog): EventEnvelope | Error {
  const event = storedEventOf(letter);
  if (event instanceof Error) return event;
  try {
    return catalog.upcast(event);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function storedEventOf(letter: DeadLetter): EventEnvelope | Error {
  if (letter.event !== null) return letter.event;
  try {
    return decodeEvent({ value: Buffer.from(letter.rawValue ?? '', 'utf8') });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The definition the running code has for a stored version, or why there is none. */
async function definitionFor(catalogue: ProjectionCatalogue, definitions: readonly Projection[], letter: DeadLetter): Promise<Projection | string> {
  const { projection: name, projectionVersion: version } = letter;
  const defined = definitions.filter((projection) => projection.name === name);
  if (defined.length === 0) return `this build has no projection ${name}`;
  const live = await catalogue.liveVersion(defined[0] as Projection);
  if (live !== version && !(await catalogue.builds(name)).has(version)) {
    return `${name} v${String(version)} no longer exists (dropped); drop the letter`;
  }
  const built = await catalogue.definitionOf(name, version);
  const definition = defined.find((projection) => projection.version === built);
  return definition === undefined ? `${name} v${String(version)} is built by definition v${String(built)}, which this build does not define` : { ...definition, version };
}

/** Applies the events of one aggregate's letters; outcome per letter. */
async function retryAggregate(config: Config, catalog: EventCatalog, projection: Projection, letters: readonly DeadLetter[]): Promise<LetterOutcome[]> {
  const events = new Map<EventEnvelope, DeadLetter>();
  const outcomes: LetterOutcome[] = [];
  for (const letter of letters) {
    const event = eventOf(letter, catalog);
    if (event instanceof Error) outcomes.push({ id: letter.id, outcome: 'failed', error: `still cannot be decoded: ${event.message}` });
    else events.set(event, letter);
  }
  const ordered = [...events.keys()].sort((a, b) => a.version - b.version);
  const first = ordered[0];
  if (first === undefined) return outcomes;
  const documentId = documentIdOf(first);
  const sink = sinkFor(config, projection);
  try {
    for (let round = 1; round <= maxRounds; round++) {
      const plan = planBatch(projection, ordered, await sink.load([documentId]));
      const result = await sink.store(plan.writes);
      if (result.conflicts.length > 0) continue;
      const failures = new Map(plan.failed.map(({ event, error }) => [event, error.message]));
      for (const { write, reason } of result.rejected) {
        for (const event of write.events) failures.set(event, `${projection.store} refused the document: ${reason}`);
      }
      const applied = new Set(plan.writes.flatMap((write) => write.events));
      for (const [event, letter] of events) {
        const error = failures.get(event);
        if (error !== undefined) outcomes.push({ id: letter.id, outcome: 'failed', error });
        else outcomes.push({ id: letter.id, outcome: applied.has(event) ? 'retried' : 'already-applied' });
      }
      return outcomes;
    }
    throw new Error(`the document ${documentId} of ${projectionId(projection)} kept changing during the retry`);
  } finally {
    await sink.close();
  }
}

async function appendRecords(log: LogClient, config: Config, records: OutgoingRecord[]): Promise<void> {
  if (records.length === 0) return;
  const producer = await log.producer();
  try {
    await producer.send(deadLetterTopic(config), records);
  } finally {
    await producer.stop();
  }
}

const resolved = (id: string, resolution: Resolution) => encodeResolution({ id, resolution, resolvedAt: new Date().toISOString() });

/**
 * Retries the letters named (with the other open letters of their aggregates), or
 * every open letter (of one projection, of one tenant's events, if given).
 */
export async function retryDeadLetters(options: {
  log: LogClient;
  config: Config;
  definitions: readonly Projection[];
  /** The app's event types: the letters' events are applied upcast, as the projector would. */
  events: EventCatalog;
  ids: readonly string[] | 'all';
  projection?: string;
  tenant?: string;
}): Promise<LetterOutcome[]> {
  const { log, config } = options;
  const book = await readDeadLetters(log, config);
  const chosen = chosenLetters(book, options.ids, options);
  // Every open letter of a chosen letter's aggregate goes with it: the later ones wait behind it.
  const groups = new Map<string, DeadLetter[]>();
  const groupOf = (letter: DeadLetter) => {
    const event = eventOf(letter, options.events);
    return `${letter.projection}.v${String(letter.projectionVersion)}|${event instanceof Error ? letter.id : documentIdOf(event)}`;
  };
  const wanted = new Set(chosen.map((entry) => groupOf(entry.letter)));
  for (const entry of book.entries()) {
    const key = groupOf(entry.letter);
    if (entry.resolution !== undefined || !wanted.has(key)) continue;
    groups.set(key, [...(groups.get(key) ?? []), entry.letter]);
  }

  const catalogue = createProjectionCatalogue(config);
  const outcomes: LetterOutcome[] = [];
  try {
    for (const letters of groups.values()) {
      const first = letters[0] as DeadLetter;
      const projection = await definitionFor(catalogue, options.definitions, first);
      if (typeof projection === 'string') outcomes.push(...letters.map((letter) => ({ id: letter.id, outcome: 'failed' as const, error: projection })));
      else outcomes.push(...(await retryAggregate(config, options.events, projection, letters)));
    }
  } finally {
    await catalogue.close();
  }

  const byId = new Map(book.entries().map((entry) => [entry.letter.id, entry.letter]));
  const failedAt = new Date().toISOString();
  await appendRecords(
    log,
    config,
    outcomes.map((result) => {
      const letter = byId.get(result.id) as DeadLetter;
      return result.outcome === 'failed'
        ? encodeDeadLetter({ ...letter, error: { name: 'RetryFailed', message: result.error ?? '' }, failedAt })
        : resolved(result.id, 'retried');
    }),
  );
  return outcomes;
}

/** Resolves letters without applying their events: the operator decided they are not to be. */
export async function dropDeadLetters(options: { log: LogClient; config: Config; ids: readonly string[] }): Promise<LetterOutcome[]> {
  const book = await readDeadLetters(options.log, options.config);
  const chosen = chosenLetters(book, options.ids);
  await appendRecords(options.log, options.config, chosen.map((entry) => resolved(entry.letter.id, 'dropped')));
  return chosen.map((entry) => ({ id: entry.letter.id, outcome: 'dropped' }));
}
