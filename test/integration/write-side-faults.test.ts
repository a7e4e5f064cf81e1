/**
 * Guarantees 1–3 under failure (docs/guarantees.md): gapless unique versions, no lost
 * acknowledgement, idempotent retries — with processors killed mid-transaction,
 * one paused past its session timeout and resumed, and clients retrying — and the
 * availability that goes with them: the longest stretch with no command acknowledged
 * stays under twice the session timeout plus 5 s (the group notices a dead or paused
 * owner within one session timeout; rejoining, fencing and rebuilding from the last
 * checkpoint take well under another).
 * More seeds, longer: `npm run test:faults -- --seeds 5`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEventLog } from '../support/event-log-checker.js';
import { runFaultScenario } from '../support/fault-scenario.js';

describe('write side under failure', () => {
  it('keeps versions gapless and unique, loses no acknowledgement, and fences the zombie', { timeout: 240_000 }, async () => {
    const result = await runFaultScenario({
      seed: Number(process.env.STRATA_FAULT_SEED ?? 7),
      processors: 3,
      partitions: 2,
      aggregates: 10,
      clients: 20,
      loadSeconds: 30,
      log: (line) => { console.log(`# ${line}`); },
    });
    assert.ok(result.acknowledged.size > 100, `enough load: ${result.acknowledged.size} acknowledged`);
    // Every command of the workload (Increment: each counter's first, then the load) yields one event.
    checkEventLog(result.committed, result.acknowledged, 1);
    assert.deepEqual(result.retryMismatches, [], 'a retried command id answers with its first outcome');
    // The hazards really happened: signals inside open transactions, aborted records in the log,
    // a fenced processor in the logs.
    const strikes = result.faults.filter((fault) => /SIGKILL|SIGSTOP/.test(fault));
    assert.equal(strikes.length, 3);
    assert.ok(strikes.every((fault) => fault.includes('mid-transaction')), result.faults.join('; '));
    assert.ok(result.uncommittedCount > result.committed.length, `aborted records exist (${result.uncommittedCount} records, ${result.committed.length} committed)`);
    assert.ok(result.processorLogs.some((log) => log.includes('fenced by a newer owner')), 'a processor was fenced');
    const bound = 2 * result.sessionTimeoutMs + 5000;
    console.log(`# longest stretch with no command acknowledged: ${result.longestSilenceMs} ms (bound ${bound} ms)`);
    assert.ok(result.longestSilenceMs <= bound, `no acknowledgement for ${result.longestSilenceMs} ms (bound ${bound} ms)`);
  });
});
