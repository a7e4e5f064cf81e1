/**
 * `npm run bench -- <scenario> [options]`: the benchmark scenarios (usage below),
 * reported as JSON on stdout, progress on stderr. Needs the local stack; brings it up if needed.
 * The app measured and its workload are found as `strata start` finds the app (workload.ts).
 */
import { parseArgs } from 'node:util';
import { withStack } from '../infra/stack/with-stack.js';
import { runCatchUpScenario, runLagScenario, runReplayScenario } from './projection-scenarios.js';
import { runReadScenario } from './read-scenario.js';
import { runRebuildScenario } from './rebuild-scenario.js';
import type { AuthVariant } from './bench-auth.js';
import type { PeerMode } from './peer/peer-scenario.js';
import { runWriteScenario, type RoleSet, type TracingVariant } from './write-scenario.js';
import { loadAppWorkload, type Workload } from './workload.js';

// The bench runs the platform on its own local stack, each role with `--no-stack`: a
// development platform (otherwise production, which refuses the local keys).
process.env.STRATA_ENV ??= 'development';

// Loaded first: the usage names the workload's projections. A project without one stops here, said plainly.
const target = await loadAppWorkload().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(2);
});

/** The usage, with the workload's own names where --only takes them. */
const usageOf = ({ prefill }: Workload) => `usage: npm run bench -- <scenario> [options]   (JSON results on stdout, progress on stderr)

  write      open-loop commands at each rate: latency, accepted/s, CPU per process, Kafka's own limits
             [--roles all|write] [--rates 100,1000,3000] [--seconds 20] [--warmup 5] [--idle 15]
             [--processors 1] [--products 1000] [--port 18080] [--node-flags=...] [--tracing off,on] [--auth on|off|off,on]
             [--brokers 1|3|1,3] [--rounds 1] [--peer on|off|only]
             (--auth on, the default as for users: tokens from the local Keycloak, which it starts and
             leaves running; rate limits off; --brokers 3: a Kafka cluster of three started for the
             variant, Strata's topics replicated three times, beside the stack's one broker with 1,3)
             (--peer on, the default: each round also measures the peer, an emmett + PostgreSQL service
             running the app's decider for the load, one Node process, on a PostgreSQL the bench starts on a
             port of its own (synchronous_commit=off) and deletes after: the same products, the same
             load at every rate, accepted/s, latency, CPU per command of the service, PostgreSQL (all
             its processes) and the load generator, and their idle CPU; in "peer" beside Strata's
             "results"; off: Strata only; only: the peer only, without the local stack)
  lag        projection lag under a steady write rate   [--rates 1000] [--seconds 30]
  catch-up   projectors catching up on a log written beforehand   [--events 1000000] [--only ${(prefill.catchUpRuns.at(-1) ?? []).join('+')}] [--old-events no|yes|no,yes]
  replay     a projection replayed from the start of the log   [--events 1000000] [--only ${prefill.replayed.join(',')}] [--old-events no|yes|no,yes] [--rounds 1]
             (one log per --old-events variant, all written first, then replayed in turn, --rounds times)
             (--old-events yes: the evolved event types, ${prefill.evolvedTypes}, written at v1, upcast by every reader)
  rebuild    a command processor restarted on a log of each size   [--events 100000,1000000] [--rounds 3]
  read       open-loop reads while writes go on
             [--rates 1000] [--seconds 30] [--warmup 10] [--events 200000] [--write-rate 100] [--port 18180] [--load by-key|search] [--auth on|off|off,on]

The local stack is brought up when it is not running.`;
const usage = usageOf(target.workload);

const parse = () => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        rates: { type: 'string' },
        roles: { type: 'string', default: 'all' },
        idle: { type: 'string', default: '15' },
        seconds: { type: 'string' },
        warmup: { type: 'string' },
        'write-rate': { type: 'string', default: '100' },
        load: { type: 'string' },
        only: { type: 'string' },
        'old-events': { type: 'string', default: 'no' },
        processors: { type: 'string', default: '1' },
        products: { type: 'string', default: '1000' },
        port: { type: 'string' },
        events: { type: 'string' },
        'node-flags': { type: 'string', default: '' },
        tracing: { type: 'string', default: 'on' },
        auth: { type: 'string', default: 'on' },
        brokers: { type: 'string', default: '1' },
        rounds: { type: 'string' },
        peer: { type: 'string', default: 'on' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
};
const { positionals, values } = parse();
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const scenario = positionals[0];
const isRead = scenario === 'read';
const rates = (values.rates ?? (scenario === 'write' ? '100,1000,3000' : '1000')).split(',').map(Number);
const numbers = [
  values.seconds ?? (scenario === 'write' ? '20' : '30'),
  values.warmup ?? (isRead ? '10' : '5'),
  values.processors,
  values.products,
  values.port ?? (isRead ? '18180' : '18080'),
  scenario === 'rebuild' ? '1' : (values.events ?? (isRead ? '200000' : '1000000')),
  values['write-rate'],
  values.rounds ?? (scenario === 'rebuild' ? '3' : '1'),
  values.idle,
].map(Number);
const tracing = values.tracing.split(',');
const auth = values.auth.split(',');
const brokers = values.brokers.split(',').map(Number);
const oldVersions = values['old-events'].split(',').map((variant) => variant === 'yes');
// The rebuild scenario takes a list of log sizes.
const logSizes = scenario === 'rebuild' ? (values.events ?? '100000,1000000').split(',').map(Number) : [];
const loads = values.load === undefined ? (['by-key', 'search'] as const) : ([values.load] as ['by-key' | 'search']);
if (!['write', 'lag', 'catch-up', 'replay', 'read', 'rebuild'].includes(scenario ?? '') || !['all', 'write'].includes(values.roles) || !tracing.every((variant) => variant === 'off' || variant === 'on') || !auth.every((variant) => variant === 'off' || variant === 'on') || !['on', 'off', 'only'].includes(values.peer) || !values['old-events'].split(',').every((variant) => variant === 'no' || variant === 'yes') || !loads.every((load) => ['by-key', 'search'].includes(load)) || ![...rates, ...numbers, ...logSizes, ...brokers].every((n) => Number.isSafeInteger(n) && n > 0)) {
  console.error(usage);
  process.exit(2);
}
const [seconds = 20, warmupSeconds = 5, processors = 1, products = 1000, port = 18080, events = 1_000_000, writeRate = 100, rounds = 1, idleSeconds = 15] = numbers;
const progress = (line: string) => {
  console.error(`• ${line}`);
};

async function run(): Promise<unknown> {
  switch (scenario) {
    case 'lag': {
      const results = [];
      for (const rate of rates) results.push(await runLagScenario({ rate, seconds, target, progress }));
      return { results };
    }
    case 'read': {
      const results = [];
      for (const rate of rates) {
        for (const variant of auth as AuthVariant[]) results.push(await runReadScenario({ rate, seconds, warmupSeconds, events, writeRate, queryPort: port, loads, auth: variant, target, progress }));
      }
      return { results };
    }
    case 'catch-up': {
      const results = [];
      for (const oldEvents of oldVersions) {
        results.push(await runCatchUpScenario({
          events,
          runs: target.workload.prefill.catchUpRuns.filter((run) => values.only === undefined || run.join('+') === values.only),
          oldEvents,
          target,
          progress,
        }));
      }
      return { results };
    }
    case 'rebuild': {
      const results = [];
      for (const size of logSizes) results.push(await runRebuildScenario({ events: size, rounds, progress }));
      return { results };
    }
    case 'replay':
      return { logs: await runReplayScenario({ events, projections: values.only?.split(',') ?? target.workload.prefill.replayed, oldEvents: oldVersions, rounds, target, progress }) };
    default: {
      const { strata, peer } = await runWriteScenario({
        rates,
        seconds,
        warmupSeconds,
        idleSeconds,
        roles: values.roles as RoleSet,
        processors,
        products,
        workload: target.workload,
        gatewayPort: port,
        nodeFlags: values['node-flags'].split(' ').filter((flag) => flag !== ''),
        tracing: tracing as TracingVariant[],
        auth: auth as AuthVariant[],
        brokers,
        rounds,
        peer: values.peer as PeerMode,
        progress,
      });
      return { roles: values.roles, processors, products, results: strata, ...(values.peer === 'off' ? {} : { peer }) };
    }
  }
}

// The peer alone needs nothing of the local stack (Keycloak is started if --auth on asks for tokens).
const results = scenario === 'write' && values.peer === 'only' ? await run() : await withStack(run);
console.log(JSON.stringify({ scenario, measuredAt: new Date().toISOString(), ...(results as object) }, null, 2));
