import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it, mock } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { coordinatorCacheMs } from '../../shared/kafka/kafkajs-patches.js';
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
