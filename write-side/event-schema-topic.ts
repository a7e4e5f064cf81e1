/**
 * The event schemas of the log, for operators and for consumers outside Strata: each
 * command processor publishes, at start, the schema of every (aggregate, event type,
 * version) its app declares to a compacted topic (`<prefix>.event-schemas`, keyed
 * `<aggregate>/<type>/v<version>`), so the topic holds every version any deployment
 * declared, whatever the code running now. `strata events schemas` prints it.
 */
import { Type } from '@sinclair/typebox';
import type { Config } from '../shared/config.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import { recordDecoder } from '../shared/record-decoder.js';
import { writeSideTopics } from '../shared/topics.js';
import type { Domain } from './decider/domain.js';

export interface PublishedSchema {
  aggregateType: string;
  type: string;
  version: number;
  /** The version's JSON schema. */
  schema: unknown;
  /** For a retired type: the type its events are read as. */
  replacedWith?: string;
}

const publishedSchema = recordDecoder(
  'a published event schema',
  Type.Object({
    aggregateType: Type.String(),
    type: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    schema: Type.Unknown(),
    replacedWith: Type.Optional(Type.String()),
  }),
);

/** What `domain` declares, one entry per version. */
export function declaredSchemas(domain: Domain): PublishedSchema[] {
  return domain.aggregates.flatMap((aggregate) =>
    Object.entries(aggregate.events).flatMap(([type, definition]) =>
      definition.versions.map((schema, index) => ({
        aggregateType: aggregate.type,
        type,
        version: index + 1,
        schema: JSON.parse(JSON.stringify(schema)) as unknown,
        ...(definition.replacedBy === undefined ? {} : { replacedWith: definition.replacedBy.type }),
      })),
    ),
  );
}

const keyOf = (entry: Pick<PublishedSchema, 'aggregateType' | 'type' | 'version'>) => `${entry.aggregateType}/${entry.type}/v${String(entry.version)}`;

/** Publishes what `domain` declares (the topic exists: ensureWriteSideTopics made it). */
export async function publishEventSchemas(log: LogClient, config: Config, domain: Domain): Promise<void> {
  const entries = declaredSchemas(domain);
  if (entries.length === 0) return;
  const producer = await log.producer();
  try {
    await producer.send(writeSideTopics(config).eventSchemas, entries.map((entry) => ({ key: keyOf(entry), value: JSON.stringify(entry) })));
  } finally {
    await producer.stop();
  }
}

/** Every schema the topic holds (the latest record of each key), ordered by aggregate, type and version. */
export async function readEventSchemas(log: LogClient, config: Config): Promise<PublishedSchema[]> {
  const byKey = new Map<string, PublishedSchema>();
  await log.readToEnd({
    topic: writeSideTopics(config).eventSchemas,
    partitions: [{ partition: 0, from: 0n }],
    onRecords: (_partition, records) => {
      for (const record of records) {
        if (record.value === null) continue;
        try {
          const entry = publishedSchema(record.value);
          byKey.set(keyOf(entry), entry);
        } catch {
          // Not ours: a record another tool wrote.
        }
      }
    },
  });
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byKey.values()].sort((a, b) => text(a.aggregateType, b.aggregateType) || text(a.type, b.type) || a.version - b.version);
}
