/**
 * A Kafka broker lost under load (docs/deployment.md, "When a part fails"): three
 * brokers, replication factor 3, 300 commands/s for 60 s; the broker that leads the
 * most events partitions is SIGKILLed at second 20 and started again at second 40.
 * Judged from the committed log alone: every command answered 200 is in it exactly
 * once, versions gapless; and the read models equal a fold of that log. The longest
 * write silence and the time back to 90 % of the offered rate are printed (their goals,
 * 10 s and 15 s, are benchmark figures, not assertions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { createRedis } from '../../shared/redis-client.js';
import { writeSideTopics } from '../../shared/topics.js';
import counterApp from '../apps/counter-app.js';
import { runBrokerLoss } from '../support/broker-loss-scenario.js';
import { checkEventLog } from '../support/event-log-checker.js';
import { caughtUp } from '../support/projection-wait.js';
import { dumpReadModel, expectedReadModel } from '../support/read-model-dump.js';

describe('a Kafka broker lost under load', () => {
  it('loses no acknowledged command, appends none twice, keeps versions gapless, and the read models equal the log', { timeout: 420_000 }, async () => {
    const rate = Number(process.env.STRATA_BROKER_LOSS_RATE ?? 300);
    const result = await runBrokerLoss({ rate, loadSeconds: 60, killAt: 20, restartAt: 40, log: (line) => { console.log(`# ${line}`); } });
    try {
      console.log(`# offered ${result.offered}, acknowledged ${result.acknowledged.size}; acknowledged per second: ${result.perSecond.join(' ')}`);
      console.log(`# longest write silence ${result.longestSilenceMs} ms (goal 10000); back to 90 % of ${rate}/s ${result.recoveryMs === undefined ? 'never' : `${result.recoveryMs} ms`} after the kill (goal 15000)`);
      assert.ok(result.ledPartitions > 0, 'the killed broker led events partitions');
      assert.ok(result.acknowledged.size >= 0.5 * result.offered, `most commands acknowledged: ${result.acknowledged.size} of ${result.offered}`);
      checkEventLog(result.committed, result.acknowledged, 1);

      const { config, log } = result;
      await caughtUp(log, config, counterApp.projections, 120_000);
      const redis = createRedis(config);
      const elasticsearch = createElasticsearch(config);
      try {
        for (const projection of counterApp.projections) {
          const actual = await dumpReadModel(config, projection, { redis, elasticsearch });
          assert.deepStrictEqual(actual, expectedReadModel(projection, result.committed), `${projection.name} equals a fold of the log (${writeSideTopics(config).events})`);
        }
      } finally {
        redis.disconnect();
        await elasticsearch.close();
      }
    } finally {
      await result.cleanUp();
    }
  });
});
