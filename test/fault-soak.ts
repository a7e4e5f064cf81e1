/**
 * `npm run test:faults -- [--seeds N] [--first-seed S] [--seconds T]`: the write
 * side's fault scenario over several seeds and longer load than CI runs. Each seed
 * is checked like the CI test; the exit code is non-zero if any seed fails.
 */
import { parseArgs } from 'node:util';
import { checkEventLog } from './support/event-log-checker.js';
import { runFaultScenario } from './support/fault-scenario.js';
import { withStack } from '../infra/stack/with-stack.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    'first-seed': { type: 'string', default: '1' },
    seconds: { type: 'string', default: '60' },
  },
});
const seeds = Number(values.seeds);
const firstSeed = Number(values['first-seed']);
const loadSeconds = Number(values.seconds);
if (![seeds, firstSeed, loadSeconds].every(Number.isSafeInteger) || loadSeconds < 30) {
  console.error('usage: npm run test:faults -- [--seeds N] [--first-seed S] [--seconds T≥30]');
  process.exit(2);
}

const failures = await withStack(async () => {
  let failed = 0;
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const result = await runFaultScenario({
      seed,
      processors: 3,
      partitions: 2,
      aggregates: 10,
      clients: 20,
      loadSeconds,
      log: (line) => { console.log(`seed ${seed}: ${line}`); },
    });
    try {
      checkEventLog(result.committed, result.acknowledged, 1);
      if (result.retryMismatches.length > 0) throw new Error(`retries answered differently: ${result.retryMismatches.join('; ')}`);
      const bound = 2 * result.sessionTimeoutMs + 5000;
      if (result.longestSilenceMs > bound) throw new Error(`no command acknowledged for ${result.longestSilenceMs} ms (bound ${bound} ms)`);
      const aborted = result.uncommittedCount - result.committed.length;
      const fenced = result.processorLogs.some((log) => log.includes('fenced by a newer owner'));
      console.log(`seed ${seed}: ok — ${result.acknowledged.size} acknowledged, ${aborted} aborted records, fenced: ${String(fenced)}, longest stretch with no acknowledgement ${result.longestSilenceMs} ms`);
    } catch (error) {
      failed += 1;
      console.log(`seed ${seed}: FAILED — ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed;
});
console.log(`${seeds - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
