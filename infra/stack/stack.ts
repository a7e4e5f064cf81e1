/**
 * The local stack: `up`, `down` and `status` over the four server definitions.
 *
 * `up` leaves running servers alone, checks every port it needs before starting
 * anything, starts the rest together and waits for each to pass its health check;
 * if one fails, the servers this `up` started are stopped again. `down` stops
 * exactly the processes recorded in the pid files and waits for their ports.
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stackPaths, type Config } from '../../shared/config.js';
import { StackError } from '../../shared/errors.js';
import { ensureArtifacts } from './artifacts.js';
import { elasticsearchNodes, localElasticsearchCount } from './elasticsearch-server.js';
import { kafkaBrokers, localBrokerCount } from './kafka-server.js';
import { isPortFree, waitForPortsFree } from './ports.js';
import {
  isRunning,
  launch,
  readPidFile,
  removePidFile,
  stopGroup,
  writePidFile,
  type PidRecord,
} from './process-control.js';
import { redisServer } from './redis-server.js';
import type { Reporter } from './reporter.js';
import type { ServerDefinition, ServerKind, ServerName } from './server.js';
import { keycloakServer } from './keycloak-server.js';
import { zipkinServer } from './zipkin-server.js';

const otherServers: readonly ServerDefinition[] = [redisServer, zipkinServer, keycloakServer];
/** The names a command may select servers by: a kind stands for all its nodes. */
export const serverNames: readonly ServerKind[] = ['kafka', 'elasticsearch', ...otherServers.map((server) => server.name as ServerKind)];
const kindOf = (name: ServerName) => name.replace(/-\d+$/, '');

/**
 * Every server of the stack: the local Kafka cluster's nodes (`brokers` asked, else as
 * formatted), the local Elasticsearch cluster's (`esNodes` asked, else as its data holds),
 * then the rest.
 */
export function allServers(config: Config, brokers?: number, esNodes?: number): ServerDefinition[] {
  return [...kafkaBrokers(localBrokerCount(config, brokers)), ...elasticsearchNodes(localElasticsearchCount(config, esNodes)), ...otherServers];
}

/** The servers `up` starts when none is named: all but the optional ones, and Keycloak when authentication is on. */
export const stackServers = (config: Config, brokers?: number, esNodes?: number): ServerDefinition[] =>
  allServers(config, brokers, esNodes).filter((server) => server.optional !== true || (server.name === 'keycloak' && config.auth.enabled));

/** The named servers (by kind, or a node by its own name), in the stack's order; all of them for an empty list. */
export function selectServers(config: Config, names: readonly string[], brokers?: number, esNodes?: number): ServerDefinition[] {
  const servers = allServers(config, brokers, esNodes);
  for (const name of names) {
    if (!servers.some((server) => server.name === name || kindOf(server.name) === name)) {
      throw new StackError(`unknown server "${name}"`, `choose from: ${serverNames.join(', ')}`);
    }
  }
  return servers.filter((server) => names.length === 0 || names.includes(server.name) || names.includes(kindOf(server.name)));
}

export type ServerState = 'running' | 'unhealthy' | 'stopped';

export interface ServerStatus {
  server: ServerName;
  /** A cluster node's id (Kafka's node.id). */
  node?: number;
  version: string | null;
  address: string;
  /** The port clients reach it on. */
  port: number;
  pid: number | null;
  state: ServerState;
}

function filesOf(config: Config, server: ServerDefinition) {
  const paths = stackPaths(config);
  return {
    pidFile: join(paths.run, `${server.name}.pid`),
    logFile: join(paths.logs, `${server.name}.log`),
    dataDir: server.dataDir?.(config) ?? join(paths.data, server.name),
  };
}

async function probeOnce(server: ServerDefinition, config: Config): Promise<string | undefined> {
  try {
    return await server.probe(config);
  } catch {
    return undefined;
  }
}

async function statusOf(config: Config, server: ServerDefinition): Promise<ServerStatus> {
  const record = readPidFile(filesOf(config, server).pidFile);
  const base = { server: server.name, ...(server.node === undefined ? {} : { node: server.node }), address: server.address(config), port: server.ports(config)[0]?.port ?? 0 };
  if (record === undefined || !isRunning(record)) {
    return { ...base, version: null, pid: null, state: 'stopped' };
  }
  const version = await probeOnce(server, config);
  return { ...base, version: version ?? null, pid: record.pid, state: version ? 'running' : 'unhealthy' };
}

export function status(config: Config, selected: readonly ServerDefinition[]): Promise<ServerStatus[]> {
  return Promise.all(selected.map((server) => statusOf(config, server)));
}

/** The log lines a server wrote since `fromByte`, at most `lines` of them. */
function logTail(logFile: string, fromByte: number, lines = 25): string {
  try {
    const size = statSync(logFile).size;
    const start = Math.max(fromByte, size - 64 * 1024);
    const buffer = Buffer.alloc(size - start);
    const fd = openSync(logFile, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log output)';
  }
}

interface Started {
  server: ServerDefinition;
  record: PidRecord;
}

async function waitHealthy(
  config: Config,
  server: ServerDefinition,
  exited: Promise<number | null>,
  logFile: string,
  logOffset: number,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => { exitCode = code; });
  const deadline = Date.now() + server.startTimeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    try {
      await server.probe(config);
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    const failure =
      exitCode !== undefined
        ? `exited during start-up (exit code ${String(exitCode)})`
        : Date.now() > deadline
          ? `did not pass its health check within ${server.startTimeoutMs / 1000} s (${lastError})`
          : undefined;
    if (failure !== undefined) {
      throw new StackError(
        `${server.name} ${failure}. Last lines of ${logFile}:\n${logTail(logFile, logOffset)}`,
      );
    }
    await sleep(500);
  }
}

async function stopStarted(config: Config, started: readonly Started[]): Promise<void> {
  await Promise.all(
    started.map(async ({ server, record }) => {
      await stopGroup(record, 30_000);
      removePidFile(filesOf(config, server).pidFile);
    }),
  );
}

export interface UpResult {
  rows: ServerStatus[];
  /** The servers this call started (the rest were already up). */
  started: ServerName[];
}

export async function up(
  config: Config,
  selected: readonly ServerDefinition[],
  reporter: Reporter,
): Promise<UpResult> {
  const paths = stackPaths(config);
  for (const dir of [paths.data, paths.logs, paths.run]) mkdirSync(dir, { recursive: true });

  const before = await status(config, selected);
  const toStart: ServerDefinition[] = [];
  for (const [index, server] of selected.entries()) {
    const state = before[index]?.state;
    if (state === 'stopped') toStart.push(server);
    else reporter.step(`${server.name} is already ${state === 'running' ? 'up' : 'starting'}; left alone`);
  }

  for (const server of toStart) {
    for (const { port, variable } of server.ports(config)) {
      if (!(await isPortFree(port))) {
        throw new StackError(
          `port ${port} is already in use by another process, so ${server.name} cannot start.`,
          `Stop whatever listens on ${port}, or move ${server.name} to a free port: ${variable}=<port> strata infra up`,
        );
      }
    }
  }

  const artifacts = toStart.flatMap((server) => (server.artifact === undefined ? [] : [server.artifact]));
  if (artifacts.length > 0) await ensureArtifacts(config.stack.artifactsDir, artifacts, reporter);

  const launches = [];
  for (const server of toStart) {
    const files = filesOf(config, server);
    mkdirSync(files.dataDir, { recursive: true });
    launches.push({ server, files, spec: await server.prepare({ config, dataDir: files.dataDir, reporter }) });
  }

  const started: Started[] = [];
  const waits: Promise<void>[] = [];
  for (const { server, files, spec } of launches) {
    reporter.step(`starting ${server.name}`);
    const logOffset = fileSize(files.logFile);
    const { exited, ...record } = launch(spec, files.logFile);
    if (record.pid < 0) {
      await stopStarted(config, started);
      throw new StackError(`${server.name} could not be started: ${spec.command} did not run`);
    }
    writePidFile(files.pidFile, record);
    started.push({ server, record });
    const since = Date.now();
    waits.push(
      waitHealthy(config, server, exited, files.logFile, logOffset).then(async () => {
        await server.configure?.(config);
        reporter.step(`${server.name} is healthy (${((Date.now() - since) / 1000).toFixed(1)} s)`);
      }),
    );
  }

  const results = await Promise.allSettled(waits);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
  if (failures.length > 0) {
    reporter.step(`stopping the ${started.length} server(s) this run started`);
    await stopStarted(config, started);
    throw new StackError(failures.map((failure) => failure.message).join('\n\n'));
  }

  // Servers found "starting" must be healthy too before up returns; servers found up are
  // configured again (an idempotent step), so that a newer Strata's configuration applies.
  for (const server of selected) {
    if (toStart.includes(server)) continue;
    const deadline = Date.now() + server.startTimeoutMs;
    while ((await statusOf(config, server)).state === 'unhealthy' && Date.now() < deadline) await sleep(500);
    if ((await statusOf(config, server)).state === 'running') await server.configure?.(config);
  }

  return { rows: await status(config, selected), started: toStart.map((server) => server.name) };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface DownResult {
  server: ServerName;
  outcome: 'stopped' | 'killed' | 'not running';
}

export async function down(
  config: Config,
  selected: readonly ServerDefinition[],
  options: { purge: boolean },
  reporter: Reporter,
): Promise<DownResult[]> {
  const results = await Promise.all(
    selected.map(async (server): Promise<DownResult> => {
      const files = filesOf(config, server);
      const record = readPidFile(files.pidFile);
      if (record === undefined || !isRunning(record)) {
        removePidFile(files.pidFile);
        return { server: server.name, outcome: 'not running' };
      }
      reporter.step(`stopping ${server.name} (pid ${record.pid})`);
      const outcome = await stopGroup(record, 30_000);
      removePidFile(files.pidFile);
      return { server: server.name, outcome };
    }),
  );

  const stopped = selected.filter((_, index) => results[index]?.outcome !== 'not running');
  const taken = await waitForPortsFree(
    stopped.flatMap((server) => server.ports(config).map(({ port }) => port)),
    15_000,
  );
  if (taken.length > 0) {
    throw new StackError(`port(s) ${taken.join(', ')} are still in use after the servers stopped.`,
      'Another process holds them; find it with: ss -ltnp');
  }

  if (options.purge) {
    for (const server of selected) {
      const files = filesOf(config, server);
      reporter.step(`deleting ${files.dataDir} and ${files.logFile}`);
      rmSync(files.dataDir, { recursive: true, force: true });
      rmSync(files.logFile, { force: true });
    }
  }
  return results;
}
