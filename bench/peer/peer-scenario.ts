/**
 * The write benchmark's peer: what a user would pick instead of Strata, an emmett +
 * PostgreSQL service (peer-service.ts) doing the same work, measured in the same run.
 *
 * Each round starts a PostgreSQL of its own (postgres-server.ts) and the service as a
 * process of its own, sends the same setup commands through the same requests, measures
 * its idle CPU as Strata's is measured, then runs the same open-loop load of the workload's
 * commands at every rate (same warm-up and seconds) with the same CPU accounting: the service,
 * PostgreSQL (all its processes) and the load generator, per accepted command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../infra/stack/ports.js';
import { loadConfig } from '../../shared/config.js';
import { packageRoot } from '../../shared/package-files.js';
import { authorization, identityProviderFor, type AuthVariant } from '../bench-auth.js';
import { stopProcess, waitReady } from '../bench-processes.js';
import { cpuPercent, measureRate, processMeter, type CpuMeter } from '../cpu-meters.js';
import type { LoadResult } from '../open-loop.js';
import { loadRequest, sendSetup } from '../write-load.js';
import type { Workload } from '../workload.js';
import { onInterrupt } from './on-interrupt.js';
import { postgresMeter } from './postgres-cpu.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

export type PeerMode = 'on' | 'off' | 'only';

export interface PeerOptions {
  rates: number[];
  seconds: number;
  warmupSeconds: number;
  idleSeconds: number;
  /** Aggregates the setup makes and the load works on. */
  products: number;
  /** The commands, the app's (workload.ts). */
  workload: Workload;
  /** Node flags of the service process, as Strata's roles get them. */
  nodeFlags: string[];
  /** Strata's auth variants: the peer's requests carry a token when one of them is `on` (the peer ignores it). */
  auth: AuthVariant[];
  progress: (line: string) => void;
}

export interface PeerRateResult extends LoadResult {
  round: number;
  /** CPU milliseconds per accepted command: the emmett service, PostgreSQL (all its processes), the load generator. */
  cpuMsPerCommand: Record<string, number>;
}

export interface PeerRound {
  round: number;
  versions: { emmett: string; emmettPostgresql: string; postgresql: string; node: string };
  settings: { synchronousCommit: 'off'; fsync: 'on' };
  /** Percent of one core each process used with no traffic, after the setup commands. */
  idleCpuPercent: { byProcess: Record<string, number>; total: number };
  rates: PeerRateResult[];
}

const serviceName = 'emmett service';

const versionOf = (name: string) => (JSON.parse(readFileSync(join(packageRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The service as a child process, like Strata's roles (bench-processes.ts spawnRole). */
function spawnService(databaseUrl: string, port: number, nodeFlags: readonly string[]): ChildProcess {
  const entry = fileURLToPath(new URL('./peer-service.js', import.meta.url));
  return spawn(process.execPath, [...nodeFlags, entry], {
    env: { ...process.env, PEER_DATABASE_URL: databaseUrl, PEER_PORT: String(port) },
    stdio: ['ignore', nodeFlags.length > 0 ? 'inherit' : 'ignore', 'inherit'],
  });
}

/** Ready, or failed as soon as the service exits (its error is on stderr). */
async function serviceReady(url: string, service: ChildProcess): Promise<void> {
  const exited = new AbortController();
  const exit = once(service, 'exit', { signal: exited.signal }).then(([code]) => {
    throw new Error(`the peer service exited at start (code ${String(code)})`);
  });
  const ready = waitReady(url);
  // Once the service has exited, the polling left behind ends in an error nobody awaits.
  ready.catch(() => undefined);
  try {
    await Promise.race([ready, exit]);
  } finally {
    exited.abort();
    await exit.catch(() => undefined);
  }
}

export async function runPeerRound(options: PeerOptions, round: number): Promise<PeerRound> {
  const label = `peer (emmett + PostgreSQL), round ${String(round)}`;
  options.progress(`${label}: starting a PostgreSQL of its own`);
  const postgres = await startPostgres();
  try {
    return await measurePeer(options, round, postgres, label);
  } finally {
    await postgres.stop();
  }
}

async function measurePeer(options: PeerOptions, round: number, postgres: PostgresServer, label: string): Promise<PeerRound> {
  const auth: AuthVariant = options.auth.includes('on') ? 'on' : 'off';
  const config = loadConfig();
  await identityProviderFor(auth, config, options.progress);
  const [port = 0] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const service = spawnService(postgres.url, port, options.nodeFlags);
  const release = onInterrupt(() => stopProcess(service));
  try {
    await serviceReady(url, service);
    options.progress(`${label}: ${postgres.version}, registering ${String(options.products)} products`);
    await sendSetup(url, options.workload, options.products, await authorization(auth, config, options.workload.roles));
    const meters: CpuMeter[] = [processMeter({ name: serviceName, pid: service.pid ?? 0 }), postgresMeter(postgres.pid)];
    // The pause Strata's variants take before their idle is measured, so both windows start alike.
    await sleep(5_000);
    options.progress(`${label}: ${options.idleSeconds} s of idle CPU`);
    const byProcess = await cpuPercent(meters, options.idleSeconds);
    const total = Math.round(Object.values(byProcess).reduce((sum, percent) => sum + percent, 0) * 10) / 10;
    options.progress(`${label}: idle ${JSON.stringify(byProcess)}`);
    const rates: PeerRateResult[] = [];
    for (const rate of options.rates) {
      options.progress(`${label}, rate ${String(rate)}/s: ${options.warmupSeconds} s warm-up, ${options.seconds} s measured`);
      // A token lives five minutes: a fresh one for each load, as for Strata.
      const load = { url, rate, seconds: options.seconds, request: loadRequest(options.workload, options.products), accepted: 200, headers: await authorization(auth, config, options.workload.roles) };
      const { result, cpuMsPerCommand } = await measureRate(load, options.warmupSeconds, meters);
      const measured = { ...result, round, cpuMsPerCommand };
      options.progress(`${label}, rate ${String(rate)}/s: ${JSON.stringify(measured)}`);
      rates.push(measured);
    }
    const versions = { emmett: versionOf('@event-driven-io/emmett'), emmettPostgresql: versionOf('@event-driven-io/emmett-postgresql'), postgresql: postgres.version, node: process.version };
    return { round, versions, settings: { synchronousCommit: 'off', fsync: 'on' }, idleCpuPercent: { byProcess, total }, rates };
  } finally {
    await stopProcess(service);
    release();
  }
}
