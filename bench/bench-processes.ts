/**
 * What the benchmark scenarios share: fresh topics under a prefix of their own,
 * Strata roles started as their own processes (`strata start --role …`), as a user
 * runs them, and waits for them to be ready or caught up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../shared/config.js';
import { createElasticsearch } from '../shared/elasticsearch-client.js';
import { elasticsearchIndexPrefix } from '../stores/elasticsearch/elasticsearch-layout.js';
import { createLogClient } from '../shared/kafka/kafkajs-client.js';
import { createRedis } from '../shared/redis-client.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import { createLogger } from '../shared/logger.js';
import type { App } from '../app/define-app.js';
import type { Projection } from '../projections/projection.js';
import { projectionProgress, totalLag } from '../projections/projection-progress.js';
import { ensureWriteSideTopics, writeSideTopics } from '../shared/topics.js';
import { strataCli } from './processor-process.js';

export interface Bench {
  config: Config;
  env: NodeJS.ProcessEnv;
  log: LogClient;
  /** The events topic. */
  topic: string;
}

/** What every bench run's names start with (topics, groups, Redis keys, Elasticsearch indices). */
const benchPrefix = 'bench-';

/** A bench run's own topic prefix. */
export const benchTopicPrefix = (scenario: string) => `${benchPrefix}${scenario}-${Date.now().toString(36)}`;

/**
 * Deletes what earlier bench runs left on the stack. Stores that grow run after run
 * weigh on later figures (Redis rewrites its append-only file in the background, a fork
 * and a copy of everything it holds, at each doubling), so every run starts on stores
 * holding no earlier run's data. The last run's data stays until the next, to be looked at.
 */
export async function dropBenchLeftovers(config: Config, keep: readonly Bench[] = []): Promise<void> {
  const kept = keep.map((bench) => bench.config.topics.prefix);
  const indexPrefixes = keep.map((bench) => elasticsearchIndexPrefix(bench.config));
  const left = (name: string, prefixes: readonly string[] = kept) => name.startsWith(benchPrefix) && !prefixes.some((prefix) => name.startsWith(prefix));
  const log = createLogClient(config, { clientId: 'strata-bench', logger: createLogger({ logLevel: 'silent' }, 'bench') });
  await log.withAdmin(async (admin) => {
    const groups = (await admin.listGroups()).filter((group) => left(group));
    if (groups.length > 0) await admin.deleteGroups(groups);
    const topics = (await admin.listTopics()).filter((topic) => left(topic));
    if (topics.length > 0) await admin.deleteTopics(topics);
  });
  const redis = createRedis(config);
  try {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${benchPrefix}*`, 'COUNT', 10_000);
      const keys = found.filter((key) => left(key));
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  const elasticsearch = createElasticsearch(config);
  try {
    // By name: Elasticsearch refuses to delete by wildcard (action.destructive_requires_name).
    const indices = Object.keys(await elasticsearch.indices.get({ index: `${benchPrefix}*`, expand_wildcards: 'all' })).filter((index) => left(index, indexPrefixes));
    for (let at = 0; at < indices.length; at += 50) await elasticsearch.indices.delete({ index: indices.slice(at, at + 50) });
  } finally {
    await elasticsearch.close();
  }
}

/** A bench on fresh topics; what earlier runs left is dropped, but for the `keep` benches' (of the same run). */
export async function freshBench(name: string, partitions: number, settings: Record<string, string> = {}, keep: readonly Bench[] = []): Promise<Bench> {
  const env = {
    ...process.env,
    STRATA_TOPIC_PREFIX: benchTopicPrefix(name),
    STRATA_PARTITIONS: String(partitions),
    STRATA_LOG_LEVEL: 'warn',
    // Projectors and processors serve no API; a scenario that measures one turns it on.
    STRATA_AUTH: 'off',
    ...settings,
  };
  const config = loadConfig(env);
  await dropBenchLeftovers(config, keep);
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
  return spawn(process.execPath, [...nodeFlags, strataCli, 'start', '--role', role, '--no-stack', ...args], {
    env,
    stdio: ['ignore', nodeFlags.length > 0 ? 'inherit' : 'ignore', 'inherit'],
  });
}

/**
 * `strata start --no-stack` as a user runs it: every role, each in a process of its
 * own under this supervisor.
 */
export function spawnPlatform(env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, strataCli, 'start', '--no-stack'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The processes whose parent is `parent` right now, read from /proc. */
export function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent ? [Number(entry)] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

/** The role processes a `strata start` supervisor started (its children), by role. */
export function rolesOf(supervisor: number): { name: string; pid: number }[] {
  return childrenOf(supervisor).flatMap((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('--role');
      const role = at < 0 ? undefined : args[at + 1];
      return role === undefined ? [] : [{ name: role, pid }];
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

/** The app's projection named `name` (its first version). */
export function projectionNamed(app: App, name: string): Projection {
  const projection = app.projections.find((candidate) => candidate.name === name);
  if (projection === undefined) throw new Error(`no projection ${name}`);
  return projection;
}

export async function lagOf(bench: Bench, projection: Projection): Promise<bigint> {
  return totalLag(await bench.log.withAdmin((admin) => projectionProgress(admin, bench.config, projection)));
}

export async function waitCaughtUp(bench: Bench, projections: readonly Projection[]): Promise<void> {
  for (const projection of projections) while ((await lagOf(bench, projection)) > 0n) await sleep(200);
}
