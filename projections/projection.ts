/**
 * The projection definition API. A projection turns the events of one aggregate
 * type into one read-model document per aggregate (document id = aggregate id),
 * with a pure function of (event, current document). The runtime does the rest:
 * it loads current documents, skips events the store already holds, writes in
 * batches, and orders every write by the aggregate's version, so that redelivery
 * and replay never double-apply or regress a document.
 *
 * Because a document is fed by one aggregate, the event's aggregate version is the
 * document's version: Elasticsearch stores it as the external version, Redis next
 * to the document, compared by a Lua script.
 *
 * A Redis projection may also declare effects on shared keys (a customer's order
 * list, a best-seller ranking). They are applied atomically with the document
 * write and only when that write is, so they too happen exactly once per event.
 */
import type { estypes } from '@elastic/elasticsearch';
import type { EventEnvelope } from '../shared/event-envelope.js';
import { tenantField } from '../stores/elasticsearch/elasticsearch-layout.js';
import type { Document, RedisEffect } from '../stores/projection-sink.js';

interface ProjectionBase {
  /** Lower-case letters, digits and dashes; it names consumer groups, indices and keys. */
  name: string;
  /** Bumped when the read model changes shape or meaning; a new version is rebuilt from offset 0. */
  version: number;
  description: string;
  /** The aggregate type whose events feed the documents. */
  aggregateType: string;
  /** Event types handled; others are passed over. */
  eventTypes: readonly string[];
}

/**
 * `project` returns the new document (null deletes it). Throwing means the event
 * cannot be applied, ever: it goes to the dead-letter topic and the document stays
 * as it was.
 */
export interface ElasticsearchProjection<Doc extends Document = Document> extends ProjectionBase {
  store: 'elasticsearch';
  project: (event: EventEnvelope, current: Doc | undefined) => Doc | null;
  /** Explicit mappings (core analyzers only: the local node has no analysis-common). */
  mappings: estypes.MappingTypeMapping;
}

export interface RedisChange<Doc extends Document = Document> {
  document: Doc | null;
  effects: readonly RedisEffect[];
}

export interface RedisProjection<Doc extends Document = Document> extends ProjectionBase {
  store: 'redis';
  project: (event: EventEnvelope, current: Doc | undefined) => RedisChange<Doc>;
}

export type Projection = ElasticsearchProjection | RedisProjection;

/** Erases a projection's document type for the runtime, which only passes it back what it produced. */
export function defineElasticsearchProjection<Doc extends Document>(
  projection: ElasticsearchProjection<Doc>,
): ElasticsearchProjection {
  checkName(projection.name);
  if (projection.mappings.properties?.[tenantField] !== undefined) {
    throw new Error(`projection ${projection.name}: the field ${tenantField} is the platform's (each document's tenant); name yours otherwise`);
  }
  return projection as unknown as ElasticsearchProjection;
}

export function defineRedisProjection<Doc extends Document>(projection: RedisProjection<Doc>): RedisProjection {
  checkName(projection.name);
  return projection as unknown as RedisProjection;
}

function checkName(name: string): void {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) {
    throw new Error(`projection name "${name}" must be lower-case letters, digits and dashes`);
  }
}

/** Whether the runtime hands `event` to `projection` at all. */
export const handles = (projection: Projection, event: Pick<EventEnvelope, 'aggregateType' | 'type'>) =>
  event.aggregateType === projection.aggregateType && projection.eventTypes.includes(event.type);

/** One event applied to a document, whatever the store: Elasticsearch projections have no effects. */
export function applyEvent(projection: Projection, event: EventEnvelope, current: Document | undefined): RedisChange {
  return projection.store === 'redis'
    ? projection.project(event, current)
    : { document: projection.project(event, current), effects: [] };
}
