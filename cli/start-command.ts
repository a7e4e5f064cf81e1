/**
 * `strata start`: the whole platform in the foreground. Brings the local stack up
 * (unless --no-stack), runs until Ctrl-C or SIGTERM, then stops what it started:
 * servers that were already up before it are left running.
 *
 * A single role runs in this process; with several, each role runs in processes of
 * its own (`strata start --role … --no-stack`), so that each has its own telemetry
 * and service name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { ConfigError, OperatorError } from '../shared/errors.js';
import { loadConfig, type Config } from '../shared/config.js';
import { createLogClient } from '../shared/kafka/kafkajs-client.js';
import { createLogger } from '../shared/logger.js';
import { serveMetrics } from '../shared/metrics.js';
import { hostPort, localHost } from '../shared/network-address.js';
import { shutdownTelemetry } from '../shared/telemetry.js';
import { startCommandProcessor } from '../write-side/command-processor/command-processor.js';
import { startGateway } from '../write-side/gateway/gateway.js';
import { startSagas } from '../write-side/saga/saga-service.js';
import { startProjector } from '../projections/projector.js';
import { definitionsOf } from '../projections/projection-status.js';
import { startQueryService } from '../read-side/query-service.js';
import { streamReporter, type Reporter } from '../infra/stack/reporter.js';
import { down, selectServers, stackServers, status, up } from '../infra/stack/stack.js';
import type { ServerName } from '../infra/stack/server.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes } from './command-runner.js';
import { printStatus } from './infra-command.js';
import { developmentDefaults } from './production-checks.js';
import { checkRoleStores } from './store-check.js';
import { wholeNumber } from './number-option.js';

/**
 * Reports a stack server that stops or recovers while the platform runs; the
 * interval also keeps the process alive until a signal arrives.
 */
function watchStack(config: Config, reporter: Reporter): NodeJS.Timeout {
  const servers = stackServers(config);
  let last = new Map<string, string>();
  return setInterval(() => {
    void status(config, servers).then((rows) => {
      for (const row of rows) {
        const before = last.get(row.server);
        if (before !== undefined && before !== row.state) reporter.step(`${row.server} is now ${row.state}`);
      }
      last = new Map(rows.map((row) => [row.server, row.state]));
    });
  }, 10_000);
}

const roles = {
  gateway: startGateway,
  processor: startCommandProcessor,
  projector: startProjector,
  query: startQueryService,
  saga: startSagas,
} as const;
type Role = keyof typeof roles;

/** Where a role without an HTTP API of its own serves /metrics (the others serve it on theirs). */
const metricsPortOf = (config: Config, role: Role): number | undefined =>
  role === 'processor' ? config.metrics.processorPort : role === 'projector' ? config.metrics.projectorPort : role === 'saga' ? config.metrics.sagaPort : undefined;

/**
 * Roles that scale on one host: more instances are more processes of the same
 * group; instance i (from 0) listens on the configured ports + i.
 */
const scalable: readonly Role[] = ['processor', 'projector', 'query', 'saga'];

/** Longer than a consumer group's session timeout, which a clean leave may take. */
const stopDeadlineMs = 30_000;

const instancesOption = wholeNumber('a whole number from 1 to 64', 64);

/** The environment of a role's instance `index` (from 0). */
function instanceEnv(config: Config, role: Role, index: number): NodeJS.ProcessEnv {
  switch (role) {
    case 'query':
      return {
        ...process.env,
        STRATA_QUERY_PORT: String(config.readSide.queryPort + index),
        STRATA_QUERY_GRPC_PORT: String(config.readSide.queryGrpcPort + index),
      };
    case 'processor':
      return { ...process.env, STRATA_PROCESSOR_METRICS_PORT: String(config.metrics.processorPort + index) };
    case 'projector':
      return { ...process.env, STRATA_PROJECTOR_METRICS_PORT: String(config.metrics.projectorPort + index) };
    case 'saga':
      return { ...process.env, STRATA_SAGA_METRICS_PORT: String(config.metrics.sagaPort + index) };
    default:
      return process.env;
  }
}

/** A service process started by this one, and whether it said it is ready. */
interface Instance {
  role: Role;
  child: ChildProcess;
  ready: boolean;
}

/** What a started process sends its parent once its role has started: its groups joined, its ports bound. */
const readyMessage = 'strata:ready';

/** Starts instances `first` … `first + count - 1` of `role`, each its own `strata start --role … --no-stack --app …`. */
function spawnInstances(config: Config, role: Role, first: number, count: number, extraArgs: readonly string[]): Instance[] {
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  return Array.from({ length: count }, (_, i) => {
    const child = spawn(process.execPath, [cli, 'start', '--role', role, '--no-stack', ...extraArgs], {
      // The IPC channel closes when this process dies, however it dies: the child then stops too.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: instanceEnv(config, role, first + i),
    });
    const instance = { role, child, ready: false };
    child.on('message', (message) => { if (message === readyMessage) instance.ready = true; });
    return instance;
  });
}

/** Why the gateway or a query service is not ready yet (its /readyz), or undefined once it is. */
async function notReady(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/readyz`);
    if (response.ok) return undefined;
    const body = (await response.json()) as { unservedPartitions?: number[] };
    const unserved = body.unservedPartitions ?? [];
    return unserved.length > 0 ? `command partition(s) ${unserved.join(', ')} to be served` : `${url} to be ready`;
  } catch {
    return `${url} to answer`;
  }
}

/** What the platform still waits for: processes whose role has not started, then the HTTP services' /readyz. */
async function awaited(config: Config, selected: readonly Role[], instances: readonly Instance[]): Promise<string[]> {
  const starting = instances.filter((instance) => !instance.ready).map((instance) => instance.role);
  if (starting.length > 0) return [...new Set(starting)].map((role) => `${role} (${String(starting.filter((r) => r === role).length)})`);
  const local = localHost(config.network.bindHost);
  const urls = [
    ...(selected.includes('gateway') ? [`http://${hostPort(local, config.writeSide.gatewayPort)}`] : []),
    ...(selected.includes('query') ? [`http://${hostPort(local, config.readSide.queryPort)}`] : []),
  ];
  return (await Promise.all(urls.map(notReady))).filter((why) => why !== undefined);
}

/**
 * Waits (up to a minute, saying what for every 5 s) until every service process has
 * started its role (joined its groups: a saga has pinned where it starts) and the HTTP
 * services answer /readyz, so that "running" means every role can act; resolves to
 * whether they all did.
 */
async function waitUntilReady(config: Config, selected: readonly Role[], instances: readonly Instance[], reporter: Reporter, stopped: () => boolean): Promise<boolean> {
  const began = Date.now();
  let told = began;
  for (let waiting = await awaited(config, selected, instances); waiting.length > 0; waiting = await awaited(config, selected, instances)) {
    if (stopped()) return false;
    if (instances.some(({ child, ready }) => !ready && (child.exitCode !== null || child.signalCode !== null))) return false;
    const seconds = Math.round((Date.now() - began) / 1000);
    if (seconds >= 60) {
      reporter.step(`not ready after a minute, still waiting for ${waiting.join(', ')}; \`strata processors status\` and the log lines above say more`);
      return false;
    }
    if (Date.now() - told >= 5_000) {
      const ready = instances.filter((instance) => instance.ready).length;
      reporter.step(`starting (${String(seconds)} s): ${String(ready)} of ${String(instances.length)} service processes ready; waiting for ${waiting.join(', ')}`);
      told = Date.now();
    }
    await sleep(200);
  }
  return true;
}

/**
 * Ctrl-C, SIGTERM, or (for a process started by another `strata start`) the parent
 * going away, however it went: heard from the first moment, so that a stop asked for
 * while the stack or the services are still starting stops what has started, and a
 * child never outlives its parent.
 */
function stopRequests(): { requested: Promise<string>; isRequested: () => boolean } {
  let reason: string | undefined;
  const requested = new Promise<string>((resolve) => {
    const stop = (why: string) => () => {
      reason ??= why;
      resolve(reason);
    };
    // Not once: Ctrl-C under `npm start` reaches this process twice (from the terminal, and
    // forwarded by npm), and a second signal with no listener would kill it mid-stop.
    process.on('SIGINT', stop('SIGINT'));
    process.on('SIGTERM', stop('SIGTERM'));
    if (process.send !== undefined) {
      if (process.connected) process.once('disconnect', stop('parent exit'));
      else stop('parent exit')();
    }
  });
  return { requested, isRequested: () => reason !== undefined };
}

async function stopInstances(instances: readonly Instance[]): Promise<void> {
  await Promise.all(
    instances
      .map(({ child }) => child)
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map((child) => {
        child.kill('SIGTERM');
        return once(child, 'exit');
      }),
  );
}


/**
 * In production (STRATA_ENV=production, or unset with `--no-stack`) a development default
 * stops the start, each one named. The decision is passed on to the processes started here.
 */
function refuseDevelopmentDefaults(config: Config, options: { stack: boolean; role?: Role[] }, hasSagas: boolean): void {
  const environment = config.environment ?? (options.stack ? 'development' : 'production');
  process.env.STRATA_ENV = environment;
  if (environment === 'development') return;
  const sagas = hasSagas && (options.role === undefined || options.role.includes('saga'));
  const refusals = developmentDefaults(config, process.env, { sagas });
  if (refusals.length === 0) return;
  const why = config.environment === undefined ? 'STRATA_ENV=production, as --no-stack implies' : 'STRATA_ENV=production';
  throw new OperatorError(`${why}: this platform would run with development defaults:\n${refusals.map((refusal) => `  - ${refusal}`).join('\n')}`, 'usage', 'set each of them, or STRATA_ENV=development for a platform that is not in production');
}

export function startCommand(): Command {
  return new Command('start')
    .description('run the platform in the foreground until Ctrl-C')
    .addOption(new Option('--role <role...>', 'run only these service roles (default: all)').choices(Object.keys(roles)))
    .option('--instances <n>', `processes of each scalable role (${scalable.join(', ')})`, instancesOption, 1)
    .option('--projection <name...>', "projector role: only these of the app's projections (default: all)")
    .addOption(appOption())
    .option('--no-stack', 'do not start the local stack (Kafka, Elasticsearch, Redis, Zipkin run elsewhere)')
    .addHelpText(
      'after',
      `
Ctrl-C (or SIGTERM) stops everything this command started; stack servers that
were already running before it are left running. Prometheus metrics: /metrics on
the gateway and query ports, processors on STRATA_PROCESSOR_METRICS_PORT (+ instance),
projectors on STRATA_PROJECTOR_METRICS_PORT, saga processes on STRATA_SAGA_METRICS_PORT
(each + instance).

Examples:
  strata start                            local stack and every service
  strata start --role processor --no-stack  one more command processor
  strata start --instances 3              three command processors, projectors, query services and sagas
                                          (one here, two child processes each; query
                                          instances on ports 8081, 8082, 8083)
  strata start --role projector --projection order-details --no-stack
                                          one more projector, for one read model
  strata start --no-stack                 against servers configured with STRATA_* URLs
`,
    )
    .action(
      action(async (options: { stack: boolean; role?: Role[]; instances: number; projection?: string[]; app?: string }) => {
        const stop = stopRequests();
        let stopping = false;
        // A saga that never ran starts at the first event written from now on (the processes started here inherit it).
        process.env.STRATA_SAGA_START_AT ||= new Date().toISOString();
        const config = loadConfig();
        if (config.auth.enabled) {
          // Outside the local stack there is no local identity provider to fall back on.
          if (!options.stack && (process.env.STRATA_AUTH_ISSUERS ?? '') === '') {
            throw new ConfigError('STRATA_AUTH_ISSUERS', '', 'authentication is on (STRATA_AUTH=on) and no identity provider is configured: set the issuer URL(s) whose tokens are accepted, or STRATA_AUTH=off for local development');
          }
          // The roles this process starts inherit the local stack's issuer.
          process.env.STRATA_AUTH_ISSUERS = config.auth.issuers.join(',');
        }
        // The app is checked before anything starts: a bad one stops here, naming what is wrong.
        const { app, module } = await appOf(options);
        const sagas = app.sagas();
        refuseDevelopmentDefaults(config, options, sagas.length > 0);
        for (const name of options.projection ?? []) definitionsOf(app.projections, name);
        const projections = app.projections.filter((projection) => options.projection?.includes(projection.name) ?? true);
        const reporter = streamReporter(process.stderr);
        let started: ServerName[] = [];
        if (options.stack) {
          const stack = await up(config, stackServers(config), reporter);
          printStatus(stack.rows, false);
          started = stack.started;
        }
        const selected = options.role ?? (Object.keys(roles) as Role[]);
        await checkRoleStores(config, { roles: selected, appStores: app.projections.map(({ store }) => store), projectedStores: projections.map(({ store }) => store), sagas: sagas.length }, reporter);
        // One role runs here (with its own telemetry) and its further instances as child
        // processes; several roles each run in processes of their own, so that each is
        // traced as its own service.
        const here = selected.length === 1 ? selected : [];
        const services: { stop(): Promise<void> }[] = [];
        for (const role of stop.isRequested() ? [] : here) {
          reporter.step(`starting ${role}`);
          const logger = createLogger(config, 'strata').child({ role });
          const log = createLogClient(config, { clientId: 'strata', logger });
          services.push(await roles[role]({ log, config, domain: app.domain, events: app.domain.events, projections, queries: app.queries, appName: app.name, sagas, logger }));
          const metricsPort = metricsPortOf(config, role);
          if (metricsPort !== undefined) services.push(await serveMetrics({ host: config.network.bindHost, port: metricsPort }, logger));
        }
        // Started by another `strata start`: that process waits for this one's role to be up.
        if (process.send !== undefined && !stop.isRequested()) process.send(readyMessage);
        const children = (stop.isRequested() ? [] : selected).flatMap((role) => {
          const count = scalable.includes(role) ? options.instances : 1;
          const first = here.includes(role) ? 1 : 0;
          const extra = ['--app', module, ...(role === 'projector' && options.projection !== undefined ? ['--projection', ...options.projection] : [])];
          return spawnInstances(config, role, first, count - first, extra);
        });
        for (const { child } of children) {
          child.once('exit', (code, signal) => {
            if (!stopping) reporter.step(`a service process (pid ${String(child.pid)}) exited: ${signal ?? `code ${String(code)}`}`);
          });
        }
        let ready = true;
        if (children.length > 0) {
          reporter.step(`started ${String(children.length)} service process(es)`);
          ready = await Promise.race([waitUntilReady(config, selected, children, reporter, stop.isRequested), stop.requested.then(() => false)]);
        }
        // A process started by another `strata start` leaves what to tell the user to it.
        const startedByAnother = process.send !== undefined;
        if (!stop.isRequested() && !startedByAnother) {
          const advertised = config.network.advertisedHost;
          if (selected.includes('gateway')) reporter.step(`write API: http://${hostPort(advertised, config.writeSide.gatewayPort)}`);
          if (selected.includes('query')) {
            const ports = options.instances > 1 ? ` (instances on the next ${String(options.instances - 1)} port(s) too)` : '';
            reporter.step(`read API: http://${hostPort(advertised, config.readSide.queryPort)}, OpenAPI at /docs${ports}`);
          }
          reporter.step(ready ? 'running; press Ctrl-C to stop' : 'running, not ready yet (see above); press Ctrl-C to stop');
        }
        const watch = options.stack ? watchStack(config, reporter) : setInterval(() => undefined, 60_000);
        const reason = await stop.requested;
        clearInterval(watch);
        const label = here.length === 1 && process.send !== undefined ? `${here[0] ?? ''} (pid ${String(process.pid)})` : 'strata';
        reporter.step(`${label}: received ${reason}, shutting down`);
        const stopBegan = Date.now();
        stopping = true;
        const stopServices = async () => {
          await stopInstances(children);
          for (const service of services.reverse()) await service.stop();
          await shutdownTelemetry();
          return true;
        };
        // A stop that hangs (a store that never answers) must not keep the process, or the stack,
        // forever; a stop in time cancels the deadline, whose timer would keep the process alive.
        const deadline = new AbortController();
        const inTime = await Promise.race([
          stopServices().finally(() => { deadline.abort(); }),
          sleep(stopDeadlineMs, false, { signal: deadline.signal }).catch(() => true),
        ]);
        if (inTime) reporter.step(`${label}: stopped in ${((Date.now() - stopBegan) / 1000).toFixed(1)} s`);
        else {
          reporter.step(`services not stopped after ${String(stopDeadlineMs / 1000)} s; killing them`);
          for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }
        if (process.connected) process.disconnect();
        if (started.length > 0) await down(config, selectServers(config, started), { purge: false }, reporter);
        const code = inTime ? exitCodes.ok : exitCodes.failure;
        // Everything is stopped; a handle a library keeps open must not keep the process alive.
        setTimeout(() => process.exit(code), 3_000).unref();
        return code;
      }),
    );
}
