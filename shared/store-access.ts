/**
 * The start-up check of the stores a process uses: Redis and Elasticsearch must accept
 * its credentials and TLS settings. A store that refuses them stops the start at once
 * with a StoreAccessError naming the server and the settings to fix: no retry would
 * ever get in, and a service that kept retrying would only look slow. A store that does
 * not answer at all is the services' business, which wait for it as for any outage.
 */
import { errors } from '@elastic/elasticsearch';
import { redactUrl, type Config } from './config.js';
import { createElasticsearch } from './elasticsearch-client.js';
import { createLogClient } from './kafka/kafkajs-client.js';
import { createLogger } from './logger.js';
import { StoreAccessError } from './errors.js';
import { createRedis } from './redis-client.js';

export type Store = 'redis' | 'elasticsearch';

/** How long the check waits for a store that does not answer before leaving it to the services. */
const answerWithinMs = 3_000;

/** Failures of the TLS handshake: a CA that does not match, a plain server behind a TLS URL. */
const tlsFailure = /certificate|self[- ]signed|wrong version number|\bssl\b|\btls\b|EPROTO/i;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** True when Redis answered and let this process in; false when it did not answer. */
async function redisLetsIn(config: Pick<Config, 'redis'>): Promise<boolean> {
  const redis = createRedis(config, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: answerWithinMs, enableOfflineQueue: false });
  // The server's own refusal comes as an error event; connect() then only says the connection closed.
  let refusal: unknown;
  redis.on('error', (error) => { refusal ??= error; });
  const where = `Redis at ${redactUrl(config.redis.url)}`;
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    const message = messageOf(refusal ?? error);
    if (/^(WRONGPASS|NOAUTH)/.test(message)) {
      throw new StoreAccessError(`${where} refused the credentials (${message}); set the user and password in STRATA_REDIS_LOGIN and STRATA_REDIS_PASSWORD, or in STRATA_REDIS_URL`);
    }
    if (/^NOPERM/.test(message)) throw new StoreAccessError(`${where} let the user in but refuses it what Strata needs (${message}); see its ACL`);
    if (tlsFailure.test(message)) {
      throw new StoreAccessError(`${where}: the TLS handshake failed (${message}); STRATA_REDIS_CA names the CA that signed its certificate, and STRATA_REDIS_URL must be rediss:// for a TLS port`);
    }
    return false;
  } finally {
    redis.disconnect();
  }
}

/** True when Elasticsearch answered and let this process in; false when it did not answer. */
async function elasticsearchLetsIn(config: Pick<Config, 'elasticsearch'>): Promise<boolean> {
  const client = createElasticsearch(config, { maxRetries: 0, requestTimeoutMs: answerWithinMs });
  const where = `Elasticsearch at ${redactUrl(config.elasticsearch.url)}`;
  try {
    await client.cluster.health();
    return true;
  } catch (error) {
    if (error instanceof errors.ResponseError) {
      const reason = (error.body as { error?: { reason?: string } } | undefined)?.error?.reason ?? 'no reason given';
      if (error.statusCode === 401) {
        throw new StoreAccessError(`${where} refused the credentials (401: ${reason}); set STRATA_ELASTICSEARCH_API_KEY, or STRATA_ELASTICSEARCH_LOGIN and STRATA_ELASTICSEARCH_PASSWORD`);
      }
      // Any other answer (403: no right to the cluster's health) means it let the user in.
      return true;
    }
    if (error instanceof errors.ConnectionError && tlsFailure.test(error.message)) {
      throw new StoreAccessError(`${where}: the TLS handshake failed (${error.message}); STRATA_ELASTICSEARCH_CA names the CA that signed its certificate, and STRATA_ELASTICSEARCH_URL must be https:// for a TLS port`);
    }
    return false;
  } finally {
    await client.close();
  }
}

/**
 * Checks that each store lets this process in; throws StoreAccessError for one that
 * refuses. Resolves to the stores that did not answer within a few seconds.
 */
export async function checkStoreAccess(config: Pick<Config, 'redis' | 'elasticsearch'>, stores: readonly Store[]): Promise<Store[]> {
  const answered = await Promise.all(stores.map((store) => (store === 'redis' ? redisLetsIn(config) : elasticsearchLetsIn(config))));
  return stores.filter((_, index) => answered[index] === false);
}

/**
 * True when a Kafka broker answered and let this process in; false when none answered.
 * kafkajs names a refused login KafkaJSSASLAuthenticationError, and a failed handshake
 * by the TLS error it met.
 */
export async function kafkaLetsIn(config: Pick<Config, 'kafka' | 'topics'>): Promise<boolean> {
  const log = createLogClient(config, { clientId: 'strata-check', logger: createLogger({ logLevel: 'silent' }, 'check'), retries: 0, connectionTimeoutMs: answerWithinMs });
  const where = `Kafka at ${config.kafka.brokers.join(',')}`;
  try {
    await log.withAdmin((admin) => admin.listTopics());
    return true;
  } catch (error) {
    const message = messageOf(error);
    if ((error as { name?: unknown }).name === 'KafkaJSSASLAuthenticationError') {
      throw new StoreAccessError(`${where} refused the credentials (${message}); set STRATA_KAFKA_LOGIN and STRATA_KAFKA_PASSWORD, and STRATA_KAFKA_SASL_MECHANISM to one the brokers enable`);
    }
    if (tlsFailure.test(message)) {
      throw new StoreAccessError(`${where}: the TLS handshake failed (${message}); STRATA_KAFKA_CA names the CA that signed the brokers' certificates, and STRATA_KAFKA_SECURITY_PROTOCOL must be SSL or SASL_SSL for a TLS listener`);
    }
    return false;
  }
}
