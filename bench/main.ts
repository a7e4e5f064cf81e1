/**
 * `npm run bench -- <scenario> [options]`: benchmark scenarios, reported as JSON
 * on stdout (progress on stderr). Needs the local stack; brings it up if needed.
 *
 *   npm run bench -- write [--rates 1000,2500,5000] [--seconds 20] [--processors 1]
 *                          [--node-flags=--trace-gc]   (flags for the service processes)
 */
import { parseArgs } from 'node:util';
import { withStack } from '../infra/stack/with-stack.js';
import { runWriteScenario } from './write-scenario.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rates: { type: 'string', default: '1000,2500,5000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    processors: { type: 'string', default: '1' },
    products: { type: 'string', default: '1000' },
    port: { type: 'string', default: '18080' },
    'node-flags': { type: 'string', default: '' },
  },
});

const scenario = positionals[0];
const rates = values.rates.split(',').map(Number);
const numbers = [values.seconds, values.warmup, values.processors, values.products, values.port].map(Number);
if (scenario !== 'write' || ![...rates, ...numbers].every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error('usage: npm run bench -- write [--rates 1000,2500,5000] [--seconds 20] [--warmup 5] [--processors 1] [--products 1000] [--port 18080] [--node-flags=...]');
  process.exit(2);
}
const [seconds = 20, warmupSeconds = 5, processors = 1, products = 1000, gatewayPort = 18080] = numbers;

const results = await withStack(() =>
  runWriteScenario({
    rates,
    seconds,
    warmupSeconds,
    processors,
    products,
    gatewayPort,
    nodeFlags: values['node-flags'].split(' ').filter((flag) => flag !== ''),
    progress: (line) => { console.error(`• ${line}`); } }),
);
console.log(JSON.stringify({ scenario, measuredAt: new Date().toISOString(), processors, products, results }, null, 2));
