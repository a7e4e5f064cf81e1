/**
 * The service processes `strata start` starts as children (each `strata start --role …
 * --no-stack`): spawning them, waiting until they are ready, stopping them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Config } from '../shared/config.js';
import { hostPort, localHost } from '../shared/network-address.js';
import type { Reporter } from '../infra/stack/reporter.js';
import { scalable, type Role } from './service-roles.js';

/** A service process started by this one, and whether it said it is ready. */
export interface Instance {
  role: Role;
  child: ChildProcess;
  ready: boolean;
}

/** What a started process sends its parent once its role has started: its groups joined, its ports bound. */
export const readyMessage = 'strata:ready';

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

/**
 * The processes of the roles selected: `instances` of each scalable role and one of the others,
 * less the instance this process runs itself (`here`). They run the app `module`, and a
 * projector the projections named.
 */
export function spawnServiceProcesses(
  config: Config,
  roles: { selected: readonly Role[]; here: readonly Role[] },
  options: { instances: number; projection?: string[]; module: string },
): Instance[] {
  return roles.selected.flatMap((role) => {
    const count = scalable.includes(role) ? options.instances : 1;
    const first = roles.here.includes(role) ? 1 : 0;
    const extra = ['--app', options.module, ...(role === 'projector' && options.projection !== undefined ? ['--projection', ...options.projection] : [])];
    return spawnInstances(config, role, first, count - first, extra);
  });
}

/** Reports a service process that exits before this one stops them; call the function returned when the stop begins. */
export function reportExits(instances: readonly Instance[], reporter: Reporter): () => void {
  let stopping = false;
  for (const { child } of instances) {
    child.once('exit', (code, signal) => {
      if (!stopping) reporter.step(`a service process (pid ${String(child.pid)}) exited: ${signal ?? `code ${String(code)}`}`);
    });
  }
  return () => { stopping = true; };
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

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
export async function waitUntilReady(config: Config, selected: readonly Role[], instances: readonly Instance[], reporter: Reporter, stopped: () => boolean): Promise<boolean> {
  const began = Date.now();
  let told = began;
  for (let waiting = await awaited(config, selected, instances); waiting.length > 0; waiting = await awaited(config, selected, instances)) {
    if (stopped()) return false;
    if (instances.some(({ child, ready }) => !ready && !running(child))) return false;
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

/** Asks the processes still running to stop (SIGTERM) and waits until they have. */
export async function stopInstances(instances: readonly Instance[]): Promise<void> {
  await Promise.all(
    instances
      .map(({ child }) => child)
      .filter(running)
      .map((child) => {
        child.kill('SIGTERM');
        return once(child, 'exit');
      }),
  );
}

/** Kills the processes that did not stop when asked. */
export function killInstances(instances: readonly Instance[]): void {
  for (const { child } of instances) if (running(child)) child.kill('SIGKILL');
}
