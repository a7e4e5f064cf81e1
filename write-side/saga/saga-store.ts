/**
 * Where a saga's instances live between inputs (docs/sagas.md, "Where the state
 * lives"): one Redis hash per instance, `<prefix>:saga:<name>:i:<instance>`, with the
 * state, a version, the ids of the inputs already handled and the outbox of commands
 * not yet known to be sent; and one sorted set of the saga's deadlines by due time,
 * `<prefix>:saga:<name>:deadlines`, members `<instance>\n<deadline name>`; and the
 * instances whose outbox is not empty, by when it last became so
 * (`<prefix>:saga:<name>:outboxes`), for commands a crashed process left unsent.
 *
 * A save is one script: it checks the version the reaction was computed from, then
 * writes the instance and its deadline changes together, so a crash leaves either
 * the reaction whole or nothing of it, and of two processes reacting to inputs of
 * the same instance at once, one wins and the other reacts again to the new state.
 * Deadlines live in Redis, not in a process: they outlive any restart.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config.js';
import { createRedis } from '../../shared/redis-client.js';
import type { Deadline, SagaCommand } from './process-manager.js';

export interface OutboxCommand {
  commandId: string;
  command: SagaCommand;
  /** The trace of the input that caused it: the command joins it. */
  traceparent?: string;
}

export interface SagaInstance<State> {
  /** 0 for an instance never saved. */
  version: number;
  state: State;
  /** Ids of the inputs (`triggerOf`) already reacted to: a redelivered input is not reacted to again. */
  handled: string[];
  outbox: OutboxCommand[];
}

export interface DueDeadline {
  instance: string;
  deadline: Deadline;
}

export interface SagaStore<State> {
  load(instance: string): Promise<SagaInstance<State> | undefined>;
  /**
   * Writes `next` (its version is ignored) if the stored version is still
   * `expectedVersion`, with the deadline changes; false when another writer came first.
   */
  save(instance: string, expectedVersion: number, next: Omit<SagaInstance<State>, 'version'>, deadlines: { set: readonly Deadline[]; clear: readonly string[] }): Promise<boolean>;
  /** When the instance's deadline `name` is due (ISO 8601), if it is set. */
  deadlineAt(instance: string, name: string): Promise<string | undefined>;
  /** Instances whose outbox has held commands since before `before`: left by a process that died. */
  staleOutboxes(before: Date, limit: number): Promise<string[]>;
  /** Deadlines due at `now`, earliest first. */
  dueDeadlines(now: Date, limit: number): Promise<DueDeadline[]>;
  close(): Promise<void>;
}

// KEYS: instance hash, deadlines set, pending outboxes set. ARGV: expected version, state, handled,
// outbox, instance, now (ms), number of deadlines to set, (name, due ms)..., then the names to clear.
const saveScript = `
if tonumber(redis.call('HGET', KEYS[1], 'v') or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(ARGV[1]) + 1, 's', ARGV[2], 'h', ARGV[3], 'o', ARGV[4])
if ARGV[4] == '[]' then
  redis.call('ZREM', KEYS[3], ARGV[5])
else
  redis.call('ZADD', KEYS[3], 'NX', ARGV[6], ARGV[5])
end
local instance, sets, a = ARGV[5], tonumber(ARGV[7]), 8
for _ = 1, sets do
  redis.call('ZADD', KEYS[2], ARGV[a + 1], instance .. '\\n' .. ARGV[a])
  a = a + 2
end
while a <= #ARGV do
  redis.call('ZREM', KEYS[2], instance .. '\\n' .. ARGV[a])
  a = a + 1
end
return 1
`;

export function createSagaStore<State>(config: Pick<Config, 'redis' | 'topics'>, sagaName: string): SagaStore<State> {
  const redis: Redis = createRedis(config, { connectionName: `strata-saga-${sagaName}` });
  redis.on('error', () => undefined);
  redis.defineCommand('strataSagaSave', { numberOfKeys: 3, lua: saveScript });
  const saveCommand = (redis as unknown as { strataSagaSave: (...args: (string | number)[]) => Promise<number> }).strataSagaSave.bind(redis);
  const base = `${config.topics.prefix}:saga:${sagaName}:`;
  const instanceKey = (instance: string) => `${base}i:${instance}`;
  const deadlinesKey = `${base}deadlines`;
  const outboxesKey = `${base}outboxes`;

  return {
    async load(instance) {
      const [version, state, handled, outbox] = await redis.hmget(instanceKey(instance), 'v', 's', 'h', 'o');
      if (version == null || state == null) return undefined;
      return {
        version: Number(version),
        state: JSON.parse(state) as State,
        handled: JSON.parse(handled ?? '[]') as string[],
        outbox: JSON.parse(outbox ?? '[]') as OutboxCommand[],
      };
    },

    async save(instance, expectedVersion, next, deadlines) {
      const args: (string | number)[] = [expectedVersion, JSON.stringify(next.state), JSON.stringify(next.handled), JSON.stringify(next.outbox), instance, Date.now(), deadlines.set.length];
      for (const deadline of deadlines.set) args.push(deadline.name, Date.parse(deadline.at));
      args.push(...deadlines.clear);
      return (await saveCommand(instanceKey(instance), deadlinesKey, outboxesKey, ...args)) === 1;
    },

    async deadlineAt(instance, name) {
      const score = await redis.zscore(deadlinesKey, `${instance}\n${name}`);
      return score === null ? undefined : new Date(Number(score)).toISOString();
    },

    staleOutboxes: (before, limit) => redis.zrangebyscore(outboxesKey, '-inf', before.getTime(), 'LIMIT', 0, limit),

    async dueDeadlines(now, limit) {
      const members = await redis.zrangebyscore(deadlinesKey, '-inf', now.getTime(), 'WITHSCORES', 'LIMIT', 0, limit);
      const due: DueDeadline[] = [];
      for (let i = 0; i + 1 < members.length; i += 2) {
        const [instance = '', name = ''] = (members[i] ?? '').split('\n');
        due.push({ instance, deadline: { name, at: new Date(Number(members[i + 1])).toISOString() } });
      }
      return due;
    },

    async close() {
      await redis.quit().catch(() => {
        redis.disconnect();
      });
    },
  };
}
