/**
 * `npm run bench -- <scenario> [options]`: benchmark scenarios, reported as JSON
 * on stdout (progress on stderr). Needs the local stack; brings it up if needed.
 *
 *   npm run bench -- write [--rates 1000,2500,5000] [--seconds 20] [--processors 1]
 *                          [--node-flags=--trace-gc]   (flags for the service processes)
 *   npm run bench -- lag [--rates 1000] [--seconds 30]
 *   npm run bench -- catch-up [--events 1000000]
 */
import { parseArgs } from 'node:util';
import { withStack } from '../infra/stack/with-stack.js';
import { runCatchUpScenario, runLagScenario } from './projection-scenarios.js';
import { runWriteScenario } from './write-scenario.js';

const usage = `usage: npm run bench -- write [--rates 1000,2500,5000] [--seconds 20] [--warmup 5] [--processors 1] [--products 1000] [--port 18080] [--node-flags=...]
       npm run bench -- lag [--rates 1000] [--seconds 30]
       npm run bench -- catch-up [--events 1000000]`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rates: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string', default: '5' },
    processors: { type: 'string', default: '1' },
    products: { type: 'string', default: '1000' },
    port: { type: 'string', default: '18080' },
    events: { type: 'string', default: '1000000' },
    'node-flags': { type: 'string', default: '' },
  },
});

const scenario = positionals[0];
const rates = (values.rates ?? (scenario === 'lag' ? '1000' : '1000,2500,5000')).split(',').map(Number);
const numbers = [values.seconds ?? (scenario === 'lag' ? '30' : '20'), values.warmup, values.processors, values.products, values.port, values.events].map(Number);
if (!['write', 'lag', 'catch-up'].includes(scenario ?? '') || ![...rates, ...numbers].every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error(usage);
  process.exit(2);
}
const [seconds = 20, warmupSeconds = 5, processors = 1, products = 1000, gatewayPort = 18080, events = 1_000_000] = numbers;
const progress = (line: string) => {
  console.error(`• ${line}`);
};

async function run(): Promise<unknown> {
  switch (scenario) {
    case 'lag': {
      const results = [];
      for (const rate of rates) results.push(await runLagScenario({ rate, seconds, progress }));
      return { results };
    }
    case 'catch-up':
      return runCatchUpScenario({
        events,
        runs: [['order-details'], ['order-details', 'customer-orders', 'product-stock', 'top-products'], ['order-search'], ['order-search', 'product-catalogue']],
        progress,
      });
    default:
      return {
        processors,
        products,
        results: await runWriteScenario({
          rates,
          seconds,
          warmupSeconds,
          processors,
          products,
          gatewayPort,
          nodeFlags: values['node-flags'].split(' ').filter((flag) => flag !== ''),
          progress,
        }),
      };
  }
}

const results = await withStack(run);
console.log(JSON.stringify({ scenario, measuredAt: new Date().toISOString(), ...(results as object) }, null, 2));
