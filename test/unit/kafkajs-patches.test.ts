import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it, mock } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { coordinatorCacheMs, endTransaction, planTransaction } from '../../shared/kafka/kafkajs-patches.js';
import { logger } from '../support/test-context.js';

interface Queue {
  pending: unknown[];
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  scheduleRequestTimeoutCheck(): void;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue;
const kafkaLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe("kafkajs's request queue, as Strata's Kafka client runs it", () => {
  createLogClient(loadConfig({}), { clientId: 'strata-test', logger });
  const queue = (enforceRequestTimeout = false) =>
    new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout, clientId: 'test', broker: 'test', logger: kafkaLogger });

  it('arms no timer when nothing is pending (kafkajs looped on one every millisecond)', () => {
    const idle = queue();
    try {
      idle.checkPendingRequests();
      assert.equal(idle.throttleCheckTimeoutId, null);
    } finally {
      idle.destroy();
    }
  });

  it('still checks again later for requests waiting out a throttle', () => {
    const throttled = queue();
    try {
      throttled.throttledUntil = Date.now() + 60_000;
      throttled.pending.push({});
      throttled.checkPendingRequests();
      assert.notEqual(throttled.throttleCheckTimeoutId, null);
    } finally {
      throttled.destroy();
    }
  });

  it('times out a request that outlived its timeout within a second, looking once a second (kafkajs: every 100 ms)', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'] });
    const checked = queue(true);
    try {
      let timedOut = 0;
      let looks = 0;
      checked.inflight.set(1, {
        sentAt: Date.now(),
        get requestTimeout() {
          looks++;
          return 5_000;
        },
        timeoutRequest: () => {
          timedOut++;
        },
      });
      checked.scheduleRequestTimeoutCheck();
      mock.timers.tick(5_000);
      assert.equal(looks, 5);
      assert.equal(timedOut, 0);
      mock.timers.tick(1_000);
      assert.equal(timedOut, 1);
    } finally {
      checked.destroy();
      mock.timers.reset();
    }
  });
});

describe("kafkajs's coordinator lookups, as Strata's Kafka client runs it", () => {
  createLogClient(loadConfig({}), { clientId: 'strata-test', logger });
  interface Lookups {
    findGroupCoordinatorMetadata(request: { groupId: string; coordinatorType?: number }): Promise<{ coordinator: { nodeId: number } }>;
  }
  const { prototype } = createRequire(import.meta.url)('kafkajs/src/cluster/index.js') as { prototype: Lookups };
  /** A cluster whose one broker answers lookups, counted, with `answer` (a node id, or an error). */
  const cluster = (answers: (number | Error)[]) => {
    const asked: string[] = [];
    const client = Object.create(prototype) as Lookups & { brokerPool: unknown; retrier: unknown; logger: unknown };
    client.logger = kafkaLogger;
    client.retrier = (attempt: (bail: (error: Error) => never) => Promise<unknown>) =>
      attempt((error) => {
        throw error;
      });
    client.brokerPool = {
      withBroker: async (use: (broker: object) => Promise<unknown>) =>
        use({
          nodeId: 1,
          broker: {
            findGroupCoordinator: ({ groupId }: { groupId: string }) => {
              asked.push(groupId);
              const answer = answers.shift() ?? 1;
              return answer instanceof Error ? Promise.reject(answer) : Promise.resolve({ host: 'broker', coordinator: { nodeId: answer } });
            },
          },
        }),
    };
    return { client, asked };
  };

  it('asks once for a coordinator within the cache time, and again after it', async () => {
    mock.timers.enable({ apis: ['Date'] });
    try {
      const { client, asked } = cluster([1, 2]);
      const transaction = { groupId: 'strata.processor-0', coordinatorType: 1 };
      assert.equal((await client.findGroupCoordinatorMetadata(transaction)).coordinator.nodeId, 1);
      assert.equal((await client.findGroupCoordinatorMetadata(transaction)).coordinator.nodeId, 1);
      assert.deepEqual(asked, ['strata.processor-0']);
      mock.timers.tick(coordinatorCacheMs);
      assert.equal((await client.findGroupCoordinatorMetadata(transaction)).coordinator.nodeId, 2);
      assert.equal(asked.length, 2);
    } finally {
      mock.timers.reset();
    }
  });

  it('keeps no failed lookup, and keeps transaction and group coordinators apart', async () => {
    const { client, asked } = cluster([new Error('not available'), 3, 4]);
    await assert.rejects(client.findGroupCoordinatorMetadata({ groupId: 'g', coordinatorType: 1 }));
    assert.equal((await client.findGroupCoordinatorMetadata({ groupId: 'g', coordinatorType: 1 })).coordinator.nodeId, 3);
    assert.equal((await client.findGroupCoordinatorMetadata({ groupId: 'g' })).coordinator.nodeId, 4);
    assert.equal(asked.length, 3);
  });
});

describe("kafkajs's AddPartitionsToTxn, as Strata's Kafka client runs it", () => {
  createLogClient(loadConfig({}), { clientId: 'strata-test', logger });
  interface AddRequest {
    transactionalId: string;
    topics: { topic: string; partitions: number[] }[];
  }
  const { prototype } = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as { prototype: object };
  const sendRequest = Object.getOwnPropertySymbols(prototype).find((symbol) => symbol.description === 'private:Broker:sendRequest');
  /** A broker that records what it is sent and answers with `answers` in turn (an error is thrown). */
  const broker = (answers: Error[] = []) => {
    const sent: string[][] = [];
    const made = Object.create(prototype) as Record<string | symbol, unknown> & { addPartitionsToTxn(request: AddRequest): Promise<unknown> };
    made.lookupRequest = () => (request: AddRequest) => request;
    assert.ok(sendRequest, 'kafkajs has no private:Broker:sendRequest');
    made[sendRequest] = (request: AddRequest) => {
      sent.push(request.topics.flatMap(({ topic, partitions }) => partitions.map((partition) => `${topic}-${String(partition)}`)).sort());
      const answer = answers.shift();
      return answer === undefined ? Promise.resolve({}) : Promise.reject(answer);
    };
    return { made, sent };
  };
  const add = (transactionalId: string, topic: string, partition: number): AddRequest => ({ transactionalId, topics: [{ topic, partitions: [partition] }] });

  it("adds the partitions a transaction was begun with at its first request, and answers kafkajs's later request for them itself", async () => {
    const { made, sent } = broker();
    planTransaction('tx-1', [{ topic: 'results', partition: 2 }]);
    await made.addPartitionsToTxn(add('tx-1', 'events', 2));
    await made.addPartitionsToTxn(add('tx-1', 'results', 2));
    await made.addPartitionsToTxn(add('tx-1', 'snapshots', 2));
    assert.deepEqual(sent, [['events-2', 'results-2'], ['snapshots-2']]);
    endTransaction('tx-1');
    await made.addPartitionsToTxn(add('tx-1', 'results', 2));
    assert.deepEqual(sent.at(-1), ['results-2'], 'the next transaction adds its partitions again');
  });

  it('asks again, without giving up, while the previous transaction is still being completed', async () => {
    const concurrent = Object.assign(new Error('concurrent'), { type: 'CONCURRENT_TRANSACTIONS' });
    const { made, sent } = broker([concurrent, concurrent]);
    await made.addPartitionsToTxn(add('tx-2', 'events', 0));
    assert.equal(sent.length, 3);
  });

  it('passes any other error on at once', async () => {
    const fenced = Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' });
    const { made, sent } = broker([fenced]);
    await assert.rejects(made.addPartitionsToTxn(add('tx-3', 'events', 0)), /fenced/);
    assert.equal(sent.length, 1);
  });
});
