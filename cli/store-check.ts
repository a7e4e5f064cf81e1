/**
 * Before `strata start` starts any role: Kafka and the stores those roles use must let this
 * process in (shared/store-access.ts), so that a wrong password or CA is one clear
 * error naming the server, not services retrying forever.
 */
import { redactUrl, type Config } from '../shared/config.js';
import { rateLimited } from '../shared/rate-limit.js';
import { checkStoreAccess, kafkaLetsIn, type Store } from '../shared/store-access.js';
import type { Reporter } from '../infra/stack/reporter.js';

export interface StoreUse {
  /** The roles this process starts, here or as child processes. */
  roles: readonly string[];
  /** The stores of the app's projections (what queries read), and of those a projector here projects. */
  appStores: readonly Store[];
  projectedStores: readonly Store[];
  sagas: number;
}

function storesOf(config: Config, use: StoreUse): Store[] {
  const stores = new Set<Store>();
  const has = (role: string) => use.roles.includes(role);
  // Redis whatever the app: the query service always connects to it, and projectors keep the catalogue there.
  if (has('query')) for (const store of ['redis', ...use.appStores] as const) stores.add(store);
  if (has('projector')) for (const store of ['redis', ...use.projectedStores] as const) stores.add(store);
  if ((has('saga') && use.sagas > 0) || (has('gateway') && rateLimited(config))) stores.add('redis');
  return [...stores];
}

export async function checkRoleStores(config: Config, use: StoreUse, reporter: Reporter): Promise<void> {
  // Every role uses Kafka.
  if (!(await kafkaLetsIn(config))) reporter.step(`kafka does not answer at ${config.kafka.brokers.join(',')} yet; the services wait for it`);
  const silent = await checkStoreAccess(config, storesOf(config, use));
  const where = { redis: config.redis.url, elasticsearch: config.elasticsearch.url };
  for (const store of silent) reporter.step(`${store} does not answer at ${redactUrl(where[store])} yet; the services wait for it`);
}
