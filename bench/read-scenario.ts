/**
 * The read scenario: by-key reads and searches, each at a fixed rate and both at
 * once, against a query service running as its own process (`strata start --role
 * query`) over read models of the app's pre-filled log, while events keep arriving at
 * a moderate rate and a projector (its own process) keeps projecting them.
 *
 * The log and the reads are the workload's (workload.ts): its reads draw their ids
 * from the events appended, so they find what they ask for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds } from '../infra/stack/process-control.js';
import type { EventEnvelope } from '../shared/event-envelope.js';
import { openEventAppender } from './event-appender.js';
import { authSettings, authorization, identityProviderFor, type AuthVariant } from './bench-auth.js';
import { freshBench, spawnRole, stopProcess, waitCaughtUp, waitReady } from './bench-processes.js';
import { runOpenLoop, type LoadResult } from './open-loop.js';
import type { AppWorkload } from './workload.js';

export interface ReadScenarioOptions {
  /** Requests per second of each load (by-key, search). */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Events in the log before the load starts. */
  events: number;
  /** Events per second appended during the load. */
  writeRate: number;
  queryPort: number;
  /** Which loads run (both at once by default). */
  loads: readonly ('by-key' | 'search')[];
  /** With STRATA_AUTH=on every request carries a token from the local Keycloak. */
  auth: AuthVariant;
  target: AppWorkload;
  progress: (line: string) => void;
}

export interface ReadResult {
  auth: AuthVariant;
  events: number;
  writeRate: number;
  byKey?: LoadResult;
  search?: LoadResult;
  /** CPU milliseconds of the query service per request answered in the measured load (both loads together). */
  queryCpuMsPerRequest: number;
}

export async function runReadScenario(options: ReadScenarioOptions): Promise<ReadResult> {
  const { app, workload } = options.target;
  const bench = await freshBench('read', 4, {
    STRATA_QUERY_PORT: String(options.queryPort),
    STRATA_QUERY_GRPC_PORT: String(options.queryPort + 1),
    ...authSettings(options.auth),
  });
  await identityProviderFor(options.auth, bench.config, options.progress);
  const url = `http://127.0.0.1:${String(options.queryPort)}`;
  const generator = workload.read.events();
  const reads = workload.read.requests();
  const take = (count: number): EventEnvelope[] =>
    Array.from({ length: count }, () => {
      const event = generator.next().value;
      reads.observe(event);
      return event;
    });

  const appender = await openEventAppender(bench.log, bench.topic);
  const query = spawnRole(bench.env, 'query');
  const children = [spawnRole(bench.env, 'projector'), query];
  try {
    options.progress(`filling the log with ${String(options.events)} events`);
    for (let appended = 0; appended < options.events; appended += 2000) await appender.append(take(Math.min(2000, options.events - appended)));
    await waitCaughtUp(bench, app.projections);
    await waitReady(url);
    options.progress(`read models hold ${reads.held()}`);

    // Writes go on throughout, straight into the events topic, as the projector's input.
    const writing = new AbortController();
    const writes = (async () => {
      const perTick = Math.max(1, Math.round(options.writeRate / 20));
      while (!writing.signal.aborted) {
        await appender.append(take(perTick));
        await sleep(50);
      }
    })();

    const requests = { 'by-key': (i: number) => reads.byKey(i), search: (i: number) => reads.search(i) };
    const load = async (seconds: number) => {
      const headers = await authorization(options.auth, bench.config, workload.roles);
      return Promise.all(options.loads.map((name) => runOpenLoop({ url, rate: options.rate, seconds, request: requests[name], accepted: 200, headers })));
    };
    options.progress(`${options.loads.join(' and ')} at ${String(options.rate)}/s each, auth ${options.auth}: ${String(options.warmupSeconds)} s warm-up, ${String(options.seconds)} s measured`);
    await load(options.warmupSeconds);
    const cpuBefore = cpuSeconds(query.pid ?? 0) ?? 0;
    const results = await load(options.seconds);
    const cpuUsed = (cpuSeconds(query.pid ?? 0) ?? 0) - cpuBefore;
    const answered = results.reduce((sum, result) => sum + (result.statuses['200'] ?? 0), 0);
    writing.abort();
    await writes;
    const resultOf = (name: 'by-key' | 'search') => results[options.loads.indexOf(name)];
    return {
      auth: options.auth,
      events: options.events,
      writeRate: options.writeRate,
      byKey: resultOf('by-key'),
      search: resultOf('search'),
      queryCpuMsPerRequest: Math.round((cpuUsed * 1000 * 1000) / Math.max(answered, 1)) / 1000,
    };
  } finally {
    await Promise.all(children.map(stopProcess));
    await appender.close();
  }
}
