/**
 * Full contents of a projection's read model, in one comparable shape for both
 * stores: `doc:<tenant>/<id>` → {version, document}, and for Redis each shared sorted
 * set (`<tenant>/<key>`) → [member, score] pairs. `expectedReadModel` computes the same shape by folding
 * an event log in memory with the projection's own functions: what a single clean
 * pass from offset 0 must leave in the store.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config.js';
import type { EventEnvelope } from '../../shared/event-envelope.js';
import { scoped } from '../../shared/auth/tenants.js';
import { documentIdOf } from '../../projections/batch-plan.js';
import { applyEvent, handles, type Projection } from '../../projections/projection.js';
import { elasticsearchNames, withoutTenant } from '../../stores/elasticsearch/elasticsearch-layout.js';
import type { Document } from '../../stores/projection-sink.js';
import { redisNamespace } from '../../stores/redis/redis-layout.js';

export type ReadModelDump = Record<string, unknown>;

const byMember = (entries: [string, number][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export async function dumpReadModel(config: Config, projection: Projection, stores: { redis: Redis; elasticsearch: Client }): Promise<ReadModelDump> {
  const dump: ReadModelDump = {};
  if (projection.store === 'redis') {
    const namespace = redisNamespace(config, projection);
    const keys = (await stores.redis.keys(`${namespace.prefix}*`)).filter((key) => key !== namespace.checkpoint);
    for (const key of keys) {
      const relative = key.slice(namespace.prefix.length);
      if ((await stores.redis.type(key)) === 'hash') {
        const { v, d } = await stores.redis.hgetall(key);
        dump[relative] = { version: Number(v), document: d === undefined ? null : (JSON.parse(d) as unknown) };
      } else {
        const flat = await stores.redis.zrange(key, 0, -1, 'WITHSCORES');
        const entries: [string, number][] = [];
        for (let i = 0; i < flat.length; i += 2) entries.push([flat[i] ?? '', Number(flat[i + 1])]);
        dump[relative] = byMember(entries);
      }
    }
    return dump;
  }
  const { index } = elasticsearchNames(config, projection);
  await stores.elasticsearch.indices.refresh({ index });
  let page = await stores.elasticsearch.search<Document>({ index, scroll: '1m', size: 1000, version: true, sort: ['_doc'] });
  while (page.hits.hits.length > 0) {
    for (const hit of page.hits.hits) dump[`doc:${hit._id ?? ''}`] = { version: hit._version, document: hit._source === undefined ? undefined : withoutTenant(hit._source) };
    if (page._scroll_id === undefined) break;
    page = await stores.elasticsearch.scroll<Document>({ scroll_id: page._scroll_id, scroll: '1m' });
  }
  if (page._scroll_id !== undefined) await stores.elasticsearch.clearScroll({ scroll_id: page._scroll_id });
  return dump;
}

export function expectedReadModel(projection: Projection, events: readonly EventEnvelope[]): ReadModelDump {
  const documents = new Map<string, { version: number; document: Document | null }>();
  const sets = new Map<string, Map<string, number>>();
  for (const event of events) {
    if (!handles(projection, event)) continue;
    const id = documentIdOf(event);
    const current = documents.get(id);
    if (current !== undefined && event.version <= current.version) continue; // a duplicate
    let change;
    try {
      change = applyEvent(projection, event, current?.document ?? undefined);
    } catch {
      continue; // dead-lettered
    }
    documents.set(id, { version: event.version, document: change.document });
    for (const effect of change.effects) {
      const key = scoped(event.tenant, effect.key);
      const set = sets.get(key) ?? new Map<string, number>();
      sets.set(key, set);
      if (effect.type === 'sortedSetIncrement') {
        set.set(effect.member, (set.get(effect.member) ?? 0) + effect.by);
        continue;
      }
      set.set(effect.member, effect.score);
      if (effect.keepHighest !== undefined && set.size > effect.keepHighest) {
        // Redis ranks by score, then by member: the lowest ranks are trimmed first.
        const ranked = byMember([...set.entries()]).sort(([, a], [, b]) => a - b);
        for (const [member] of ranked.slice(0, set.size - effect.keepHighest)) set.delete(member);
      }
    }
  }
  const dump: ReadModelDump = {};
  for (const [id, entry] of documents) dump[`doc:${id}`] = entry;
  for (const [key, set] of sets) dump[key] = byMember([...set.entries()]);
  return dump;
}
