/**
 * The Redis sink: how the projector writes a projection version's namespace (its
 * keys: redis-layout.ts).
 *
 * A batch is one Lua script call per chunk: for each write it compares the stored
 * version with the one the plan was made from, and only then sets the document and
 * applies its effects; the partition's checkpoint moves in the same script, so
 * documents, effects and checkpoint change together or not at all.
 */
import type { Redis } from 'ioredis';
import { scoped } from '../../shared/auth/tenants.js';
import type { Config } from '../../shared/config.js';
import type { ProjectionVersion } from '../../shared/projection-id.js';
import { createRedis } from '../../shared/redis-client.js';
import type { Checkpoint, DocumentWrite, ProjectionSink, StoredDocument, StoreResult } from '../projection-sink.js';
import { redisNamespace } from './redis-layout.js';

// KEYS: checkpoint, then per write its document key followed by its effect keys.
// ARGV: partition, offset, then per write: expected version, version, JSON ('' deletes),
// effect count, and per effect: kind, member, number, keep.
const storeScript = `
local conflicts = {}
local k, a = 2, 3
while a <= #ARGV do
  local doc_key = KEYS[k]
  k = k + 1
  local expected, version, doc, effects = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  a = a + 4
  local apply = tonumber(redis.call('HGET', doc_key, 'v') or '0') == expected
  if apply then
    if doc == '' then
      redis.call('HDEL', doc_key, 'd')
      redis.call('HSET', doc_key, 'v', version)
    else
      redis.call('HSET', doc_key, 'v', version, 'd', doc)
    end
  else
    conflicts[#conflicts + 1] = doc_key
  end
  for _ = 1, effects do
    local key, kind, member, number, keep = KEYS[k], ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
    k, a = k + 1, a + 4
    if apply then
      if kind == 'add' then
        redis.call('ZADD', key, number, member)
        if keep > 0 then redis.call('ZREMRANGEBYRANK', key, 0, -keep - 1) end
      else
        redis.call('ZINCRBY', key, number, member)
      end
    end
  end
end
if #conflicts == 0 and tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1') then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return conflicts
`;

/**
 * A script call holds writes until either bound: large enough to amortise round trips,
 * small enough not to stall Redis. One document's write is never split (its effects go
 * with it), so a call can exceed the argument bound by one write's worth.
 */
const writesPerCall = 500;
const argumentsPerCall = 50_000;

/** Keys and arguments one write takes in the script. */
const argumentsOf = (write: DocumentWrite) => 5 + 5 * write.effects.length;

type StoreCommand = (keys: string[], args: (string | number)[]) => Promise<string[]>;

export function createRedisSink(config: Config, projection: ProjectionVersion): ProjectionSink {
  const namespace = redisNamespace(config, projection);
  // Fail a command after one reconnection attempt: the projector's own retry loop
  // waits with backoff and logs, instead of commands queueing silently.
  const redis: Redis = createRedis(config, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  redis.defineCommand('strataStore', { lua: storeScript });
  const strataStore = (redis as unknown as { strataStore: (...args: (number | (string | number)[])[]) => Promise<string[]> }).strataStore.bind(redis);
  // Arrays, not spread arguments: a batch of many effects has more of them than a call may take.
  const run: StoreCommand = (keys, args) => strataStore(keys.length, keys, args);

  const storeChunk = (writes: readonly DocumentWrite[], checkpoint: Checkpoint | undefined) => {
    const { keys, args } = scriptCall(namespace, writes, checkpoint);
    return run(keys, args);
  };

  return {
    async prepare() {
      await redis.set(namespace.livePointer, String(projection.version), 'NX');
    },

    // The checkpoint moves in the same script as the documents: it never trails them.
    resume: () => Promise.resolve(),

    load: (ids) => loadDocuments(redis, namespace, ids),

    async store(writes, checkpoint): Promise<StoreResult> {
      const chunks = chunksOf(writes);
      const conflicts: string[] = [];
      // The checkpoint rides on the last chunk, and only if no earlier one met a conflict.
      for (const [index, chunk] of chunks.entries()) {
        const last = index === chunks.length - 1;
        conflicts.push(...(await storeChunk(chunk, last && conflicts.length === 0 ? checkpoint : undefined)));
      }
      return { conflicts, rejected: [] };
    },

    async checkpoints() {
      const fields = await redis.hgetall(namespace.checkpoint);
      return new Map(Object.entries(fields).map(([partition, offset]) => [Number(partition), BigInt(offset)]));
    },

    async close() {
      await redis.quit().catch(() => {
        redis.disconnect();
      });
    },
  };
}

type Namespace = ReturnType<typeof redisNamespace>;

/** The writes in script calls of at most `writesPerCall` writes and about `argumentsPerCall` arguments. */
function chunksOf(writes: readonly DocumentWrite[]): DocumentWrite[][] {
  const chunks: DocumentWrite[][] = [[]];
  let size = 0;
  for (const write of writes) {
    const current = chunks[chunks.length - 1] ?? [];
    if (current.length > 0 && (current.length >= writesPerCall || size + argumentsOf(write) > argumentsPerCall)) {
      chunks.push([write]);
      size = argumentsOf(write);
    } else {
      current.push(write);
      size += argumentsOf(write);
    }
  }
  return chunks;
}

/** The store script's keys and arguments for one chunk of writes and the checkpoint, if it rides on it. */
function scriptCall(namespace: Namespace, writes: readonly DocumentWrite[], checkpoint: Checkpoint | undefined) {
  const keys = [namespace.checkpoint];
  const args: (string | number)[] = [checkpoint?.partition ?? 0, checkpoint === undefined ? -1 : checkpoint.offset.toString()];
  for (const write of writes) {
    keys.push(namespace.document(write.id));
    args.push(write.expectedVersion, write.version, write.document === null ? '' : JSON.stringify(write.document), write.effects.length);
    for (const effect of write.effects) {
      keys.push(namespace.key(scoped(write.tenant, effect.key)));
      if (effect.type === 'sortedSetAdd') args.push('add', effect.member, effect.score, effect.keepHighest ?? 0);
      else args.push('incr', effect.member, effect.by, 0);
    }
  }
  return { keys, args };
}

async function loadDocuments(redis: Redis, namespace: Namespace, ids: readonly string[]): Promise<Map<string, StoredDocument>> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(namespace.document(id), 'v', 'd');
  const replies = (await pipeline.exec()) ?? [];
  const loaded = new Map<string, StoredDocument>();
  replies.forEach(([error, reply], index) => {
    if (error) throw error;
    const [version, json] = reply as [string | null, string | null];
    const id = ids[index];
    if (version !== null && id !== undefined) {
      loaded.set(id, { version: Number(version), document: json === null ? undefined : (JSON.parse(json) as Record<string, unknown>) });
    }
  });
  return loaded;
}
