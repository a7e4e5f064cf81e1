/**
 * How `strata start` stops: what asks it to, and stopping what it started, in order and
 * within a deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../shared/config.js';
import { shutdownTelemetry } from '../shared/telemetry.js';
import type { Reporter } from '../infra/stack/reporter.js';
import type { ServerName } from '../infra/stack/server.js';
import { down, selectServers } from '../infra/stack/stack.js';
import { exitCodes } from './command-runner.js';
import { killInstances, stopInstances, type Instance } from './service-processes.js';
import type { Role, Service } from './service-roles.js';

/** Longer than a consumer group's session timeout, which a clean leave may take. */
const stopDeadlineMs = 30_000;

export interface StopRequests {
  /** Resolves to what asked for the stop. */
  requested: Promise<string>;
  isRequested: () => boolean;
}

/**
 * Ctrl-C, SIGTERM, or (for a process started by another `strata start`) the parent
 * going away, however it went: heard from the first moment, so that a stop asked for
 * while the stack or the services are still starting stops what has started, and a
 * child never outlives its parent.
 */
export function stopRequests(): StopRequests {
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

/** What a `strata start` process started, to stop again. */
export interface Started {
  /** The role this process runs itself, when it runs one. */
  here: readonly Role[];
  /** This process's services, in the order they started. */
  services: readonly Service[];
  children: readonly Instance[];
  /** The stack servers this run brought up (those already running before it are left alone). */
  servers: readonly ServerName[];
  /** Says the stop has begun: a child that exits from then on is not reported. */
  stopping: () => void;
}

/** Stops what this process started, the stack servers last; resolves to the exit code. */
export async function shutDown(config: Config, started: Started, reason: string, reporter: Reporter): Promise<number> {
  const { here, children } = started;
  const label = here.length === 1 && process.send !== undefined ? `${here[0] ?? ''} (pid ${String(process.pid)})` : 'strata';
  reporter.step(`${label}: received ${reason}, shutting down`);
  const stopBegan = Date.now();
  started.stopping();
  const inTime = await stopInTime(children, started.services);
  if (inTime) reporter.step(`${label}: stopped in ${((Date.now() - stopBegan) / 1000).toFixed(1)} s`);
  else {
    reporter.step(`services not stopped after ${String(stopDeadlineMs / 1000)} s; killing them`);
    killInstances(children);
  }
  if (process.connected) process.disconnect();
  if (started.servers.length > 0) await down(config, selectServers(config, started.servers), { purge: false }, reporter);
  const code = inTime ? exitCodes.ok : exitCodes.failure;
  // Everything is stopped; a handle a library keeps open must not keep the process alive.
  setTimeout(() => process.exit(code), 3_000).unref();
  return code;
}

/** Stops the child processes, then this process's services (the last started first) and its telemetry; resolves to whether that took less than the deadline. */
async function stopInTime(children: readonly Instance[], services: readonly Service[]): Promise<boolean> {
  const stopAll = async () => {
    await stopInstances(children);
    for (const service of [...services].reverse()) await service.stop();
    await shutdownTelemetry();
    return true;
  };
  // A stop that hangs (a store that never answers) must not keep the process, or the stack,
  // forever; a stop in time cancels the deadline, whose timer would keep the process alive.
  const deadline = new AbortController();
  return Promise.race([
    stopAll().finally(() => { deadline.abort(); }),
    sleep(stopDeadlineMs, false, { signal: deadline.signal }).catch(() => true),
  ]);
}
