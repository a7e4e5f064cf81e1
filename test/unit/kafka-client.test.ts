import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { createKafka } from '../../shared/kafka-client.js';
import { logger } from '../support/test-context.js';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue;
const kafkaLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe("kafkajs's request queue, as Strata's Kafka client runs it", () => {
  createKafka(loadConfig({}), { clientId: 'strata-test', logger });
  const queue = () => new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'test', logger: kafkaLogger });

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
});
