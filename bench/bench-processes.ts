/**
 * What the benchmark scenarios share: fresh topics under a prefix of their own,
 * Strata roles started as their own processes (`strata start --role …`), as a user
 * runs them, and waits for them to be ready or caught up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, packageRoot, type Config } from '../shared/config.js';
import { createLogClient } from '../shared/kafka/kafkajs-client.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import { createLogger } from '../shared/logger.js';
import { projectionProgress, totalLag } from '../projections/projection-progress.js';
import { ensureWriteSideTopics, writeSideTopics } from '../shared/topics.js';
import shop from '../examples/shop/app.js';

/** The `strata` executable, as built. */
export const cli = join(packageRoot, 'dist', 'cli', 'main.js');

export interface Bench {
  config: Config;
  env: NodeJS.ProcessEnv;
  log: LogClient;
  /** The events topic. */
  topic: string;
}

export async function freshBench(name: string, partitions: number, settings: Record<string, string> = {}): Promise<Bench> {
  const env = {
    ...process.env,
    STRATA_TOPIC_PREFIX: `bench-${name}-${Date.now().toString(36)}`,
    STRATA_PARTITIONS: String(partitions),
    STRATA_LOG_LEVEL: 'warn',
    // Projectors and processors serve no API; a scenario that measures one turns it on.
    STRATA_AUTH: 'off',
    ...settings,
  };
  const config = loadConfig(env);
  const log = createLogClient(config, { clientId: 'strata-bench', logger: createLogger({ logLevel: 'silent' }, 'bench') });
  await ensureWriteSideTopics(log, config);
  return { config, env, log, topic: writeSideTopics(config).events };
}

/** `strata start --role <role> --no-stack [args]` as a child process. */
export function spawnRole(
  env: NodeJS.ProcessEnv,
  role: string,
  args: readonly string[] = [],
  nodeFlags: readonly string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, cli, 'start', '--role', role, '--no-stack', ...args], {
    env,
    stdio: ['ignore', nodeFlags.length > 0 ? 'inherit' : 'ignore', 'inherit'],
  });
}

/**
 * `strata start --no-stack` as a user runs it: every role, each in a process of its
 * own under this supervisor.
 */
export function spawnPlatform(env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, cli, 'start', '--no-stack'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The role processes a `strata start` supervisor started (its children, read from /proc), by role. */
export function rolesOf(supervisor: number): { name: string; pid: number }[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (parent !== supervisor) return [];
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const at = args.indexOf('--role');
        const role = at < 0 ? undefined : args[at + 1];
        return role === undefined ? [] : [{ name: role, pid: Number(entry) }];
      } catch {
        return []; // gone meanwhile
      }
    });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

export async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not become ready`);
}

export async function lagOf(bench: Bench, name: string): Promise<bigint> {
  const projection = shop.projections.find((candidate) => candidate.name === name);
  if (projection === undefined) throw new Error(`no projection ${name}`);
  return totalLag(await bench.log.withAdmin((admin) => projectionProgress(admin, bench.config, projection)));
}

export async function waitCaughtUp(bench: Bench, names: readonly string[] = shop.projections.map((p) => p.name)): Promise<void> {
  for (const name of names) while ((await lagOf(bench, name)) > 0n) await sleep(200);
}
