/**
 * `strata start`: the whole platform in the foreground. Brings the local stack up
 * (unless --no-stack), runs until Ctrl-C or SIGTERM, then stops what it started:
 * servers that were already up before it are left running.
 *
 * A single role runs in this process; with several, each role runs in processes of
 * its own (`strata start --role … --no-stack`), so that each has its own telemetry
 * and service name.
 */
import { Command, Option } from 'commander';
import { ConfigError, OperatorError } from '../shared/errors.js';
import { loadConfig, type Config } from '../shared/config.js';
import { hostPort } from '../shared/network-address.js';
import { definitionsOf } from '../projections/projection-status.js';
import { streamReporter, type Reporter } from '../infra/stack/reporter.js';
import { stackServers, status, up } from '../infra/stack/stack.js';
import type { ServerName } from '../infra/stack/server.js';
import { appOf, appOption } from './app-option.js';
import { action } from './command-runner.js';
import { printStatus } from './infra-command.js';
import { developmentDefaults } from './production-checks.js';
import { reportExits, readyMessage, spawnServiceProcesses, waitUntilReady } from './service-processes.js';
import { roles, scalable, startRole, type Role, type RoleInputs, type Service } from './service-roles.js';
import { shutDown, stopRequests, type Started, type StopRequests } from './start-shutdown.js';
import { checkRoleStores } from './store-check.js';
import { wholeNumber } from './number-option.js';

const instancesOption = wholeNumber('a whole number from 1 to 64', 64);

interface StartOptions {
  stack: boolean;
  role?: Role[];
  instances: number;
  projection?: string[];
  app?: string;
}

/** What `strata start` runs, once checked. */
interface StartPlan extends RoleInputs {
  config: Config;
  /** The app module's path, for the processes started here. */
  module: string;
  selected: readonly Role[];
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
  strata start --role projector --projection NAME --no-stack
                                          one more projector, for one read model
  strata start --no-stack                 against servers configured with STRATA_* URLs
`,
    )
    .action(action(start));
}

async function start(options: StartOptions): Promise<number> {
  const stop = stopRequests();
  const plan = await checkStart(options);
  const { config, app, sagas, projections, selected } = plan;
  const reporter = streamReporter(process.stderr);
  const servers = options.stack ? await startStack(config, reporter) : [];
  await checkRoleStores(config, { roles: selected, appStores: app.projections.map(({ store }) => store), projectedStores: projections.map(({ store }) => store), sagas: sagas.length }, reporter);
  const { ready, ...started } = await startServices(plan, options, reporter, stop);
  // A process started by another `strata start` leaves what to tell the user to it.
  if (!stop.isRequested() && process.send === undefined) announce(config, selected, options.instances, ready, reporter);
  // The interval also keeps the process alive until a stop is asked for.
  const watch = options.stack ? watchStack(config, reporter) : setInterval(() => undefined, 60_000);
  const reason = await stop.requested;
  clearInterval(watch);
  return shutDown(config, { ...started, servers }, reason, reporter);
}

/** The configuration and the app, checked before anything starts. */
async function checkStart(options: StartOptions): Promise<StartPlan> {
  // A saga that never ran starts at the first event written from now on (the processes started here inherit it).
  process.env.STRATA_SAGA_START_AT ||= new Date().toISOString();
  const config = loadConfig();
  if (config.auth.enabled) passOnIssuers(config, options.stack);
  // The app is checked before anything starts: a bad one stops here, naming what is wrong.
  const { app, module } = await appOf(options);
  const sagas = app.sagas();
  refuseDevelopmentDefaults(config, options, sagas.length > 0);
  for (const name of options.projection ?? []) definitionsOf(app.projections, name);
  const projections = app.projections.filter((projection) => options.projection?.includes(projection.name) ?? true);
  return { config, app, module, sagas, projections, selected: options.role ?? (Object.keys(roles) as Role[]) };
}

/** With authentication on, the roles started here accept the tokens of the issuers configured, or of the local stack's. */
function passOnIssuers(config: Config, stack: boolean): void {
  // Outside the local stack there is no local identity provider to fall back on.
  if (!stack && (process.env.STRATA_AUTH_ISSUERS ?? '') === '') {
    throw new ConfigError('STRATA_AUTH_ISSUERS', '', 'authentication is on (STRATA_AUTH=on) and no identity provider is configured: set the issuer URL(s) whose tokens are accepted, or STRATA_AUTH=off for local development');
  }
  // The roles this process starts inherit the local stack's issuer.
  process.env.STRATA_AUTH_ISSUERS = config.auth.issuers.join(',');
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

/** Brings the local stack up; resolves to the servers this run started. */
async function startStack(config: Config, reporter: Reporter): Promise<ServerName[]> {
  const stack = await up(config, stackServers(config), reporter);
  printStatus(stack.rows, false);
  return stack.started;
}

/**
 * Starts the role this process runs, if it runs one, then the service processes, and waits
 * until they are ready (or a stop is asked for); `ready` says whether they all were.
 */
async function startServices(plan: StartPlan, options: StartOptions, reporter: Reporter, stop: StopRequests): Promise<Omit<Started, 'servers'> & { ready: boolean }> {
  const { config, selected } = plan;
  // One role runs here (with its own telemetry) and its further instances as child
  // processes; several roles each run in processes of their own, so that each is
  // traced as its own service.
  const here = selected.length === 1 ? selected : [];
  const services: Service[] = [];
  for (const role of stop.isRequested() ? [] : here) {
    reporter.step(`starting ${role}`);
    services.push(...(await startRole(config, role, plan)));
  }
  // Started by another `strata start`: that process waits for this one's role to be up.
  if (process.send !== undefined && !stop.isRequested()) process.send(readyMessage);
  const children = stop.isRequested() ? [] : spawnServiceProcesses(config, { selected, here }, { ...options, module: plan.module });
  const stopping = reportExits(children, reporter);
  let ready = true;
  if (children.length > 0) {
    reporter.step(`started ${String(children.length)} service process(es)`);
    ready = await Promise.race([waitUntilReady(config, selected, children, reporter, stop.isRequested), stop.requested.then(() => false)]);
  }
  return { here, services, children, stopping, ready };
}

/** Where the APIs are, and whether every role is ready. */
function announce(config: Config, selected: readonly Role[], instances: number, ready: boolean, reporter: Reporter): void {
  const advertised = config.network.advertisedHost;
  if (selected.includes('gateway')) reporter.step(`write API: http://${hostPort(advertised, config.writeSide.gatewayPort)}`);
  if (selected.includes('query')) {
    const ports = instances > 1 ? ` (instances on the next ${String(instances - 1)} port(s) too)` : '';
    reporter.step(`read API: http://${hostPort(advertised, config.readSide.queryPort)}, OpenAPI at /docs${ports}`);
  }
  reporter.step(ready ? 'running; press Ctrl-C to stop' : 'running, not ready yet (see above); press Ctrl-C to stop');
}

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
