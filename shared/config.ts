/**
 * The one configuration module: every setting Strata reads, its environment
 * variable, its default and its validation. An invalid value stops start-up
 * with a ConfigError naming the variable. `strata config` prints this table,
 * and the configuration table in docs/configuration.md is checked against it by a test.
 */
import { existsSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors.js';
import { hostPort as joinHostPort, isWildcard, localHost } from './network-address.js';

/**
 * The project Strata runs in: the nearest folder from the working directory up that
 * holds a package.json (the working directory when none does). Relative paths in
 * settings are relative to it, so a project's stack lives in its own `.strata/`.
 */
export function projectDir(cwd: string = process.cwd()): string {
  for (let at = resolve(cwd); ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at;
    if (dirname(at) === at) return resolve(cwd);
  }
}

/**
 * The per-user cache (XDG), shared by every project of the user. Root's is the system
 * cache instead: Elasticsearch then runs as a user of its own, which must read it, and
 * root's home is closed to other users.
 */
const userCacheDir = () =>
  process.getuid?.() === 0 ? '/var/cache/strata' : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'strata');

type Parse<T> = (raw: string, variable: string) => T;

export interface Setting<T> {
  variable: string;
  description: string;
  /** The default as documented; undefined when it is derived from other settings. */
  fallback: string | undefined;
  /** How the derived default is described to users. */
  derivedFrom?: string;
  parse: Parse<T>;
  /** Its value is never printed. */
  secret?: boolean;
}

function setting<T>(
  variable: string,
  description: string,
  fallback: string | { derivedFrom: string },
  parse: Parse<T>,
): Setting<T> {
  return typeof fallback === 'string'
    ? { variable, description, fallback, parse }
    : { variable, description, fallback: undefined, derivedFrom: fallback.derivedFrom, parse };
}

const port: Parse<number> = (raw, variable) => {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 65535) {
    throw new ConfigError(variable, raw, 'expected a TCP port from 1 to 65535');
  }
  return value;
};

/** A TCP port, or 0: any free one. */
const portOrAny: Parse<number> = (raw, variable) => (raw === '0' ? 0 : port(raw, variable));

/** A JVM heap size such as 512m or 1g, kept in the form the JVM takes. */
const heap: Parse<string> = (raw, variable) => {
  if (!/^[1-9]\d*[mg]$/.test(raw)) {
    throw new ConfigError(variable, raw, 'expected a heap size such as 512m or 1g');
  }
  return raw;
};

const projectPath = (raw: string) => (isAbsolute(raw) ? raw : resolve(projectDir(), raw));

const directory: Parse<string> = (raw, variable) => {
  if (raw.trim() === '') throw new ConfigError(variable, raw, 'expected a directory path');
  return projectPath(raw);
};

const pemFile: Parse<string> = (raw, variable) => {
  const path = projectPath(raw);
  if (!existsSync(path)) throw new ConfigError(variable, raw, `no such file: ${path} (expected a PEM file of CA certificates)`);
  return path;
};

/** The URL as it may be shown: a password in it (`rediss://user:secret@host`) replaced by `***`; in each URL of a list. */
export const redactUrl = (raw: string): string => raw.replace(/([a-z][a-z0-9+.-]*:\/\/[^/@:,]*:)[^/@]*@/gi, '$1***@');

const url: Parse<string> = (raw, variable) => {
  try {
    return new URL(raw).toString().replace(/\/$/, '');
  } catch {
    throw new ConfigError(variable, redactUrl(raw), 'expected an absolute URL');
  }
};

/** A host name, or an IPv4 or IPv6 address (without brackets). */
const host: Parse<string> = (raw, variable) => {
  if (!/^[A-Za-z0-9.-]+$/.test(raw) && !/^[0-9A-Fa-f:.]+$/.test(raw)) throw new ConfigError(variable, raw, 'expected a host name or an IP address, e.g. 0.0.0.0 or 10.0.0.5');
  return raw;
};

const hostPorts: Parse<string[]> = (raw, variable) => {
  const list = raw.split(',').map((entry) => entry.trim());
  for (const entry of list) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(entry)) {
      throw new ConfigError(variable, raw, `"${entry}" is not host:port`);
    }
  }
  return list;
};

const hostPort: Parse<string> = (raw, variable) => {
  const [only, ...more] = hostPorts(raw, variable);
  if (only === undefined || more.length > 0) throw new ConfigError(variable, raw, 'expected one host:port');
  return only;
};

const urls: Parse<string[]> = (raw, variable) => {
  const list = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (list.length === 0) throw new ConfigError(variable, redactUrl(raw), 'expected one or more absolute URLs, comma-separated');
  return list.map((entry) => url(entry, variable));
};

/**
 * Several URLs as one value, each normalized, comma-separated as given: shown and
 * redacted as one setting, split again by `splitUrls` (none holds a comma: a comma in
 * a password is written %2C).
 */
const urlList: Parse<string> = (raw, variable) => urls(raw, variable).join(',');

/** The URLs of a `urlList` value. */
export const splitUrls = (list: string): string[] => list.split(',');

const instant: Parse<Date> = (raw, variable) => {
  const time = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(time.getTime())) throw new ConfigError(variable, raw, 'expected a time in ISO 8601, e.g. 2026-12-07T09:30:00Z');
  return time;
};

/** Signature algorithms a token may use: asymmetric only (HMAC with a published key would let anyone sign). */
const acceptedAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const algorithms: Parse<string[]> = (raw, variable) => {
  const list = raw.split(',').map((entry) => entry.trim());
  for (const entry of list) {
    if (!(acceptedAlgorithms as readonly string[]).includes(entry)) throw new ConfigError(variable, raw, `"${entry}" is not one of ${acceptedAlgorithms.join(', ')}`);
  }
  return list;
};

const clientIds: Parse<string[]> = (raw, variable) => {
  const list = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (list.length === 0) throw new ConfigError(variable, raw, 'expected one or more OAuth client ids, comma-separated');
  return list;
};

const claimPath: Parse<string> = (raw, variable) => {
  if (!/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/.test(raw)) throw new ConfigError(variable, raw, 'expected a claim name, or a dotted path such as realm_access.roles');
  return raw;
};

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const oneOf =
  <T extends string>(...choices: T[]): Parse<T> =>
  (raw, variable) => {
    if (!(choices as string[]).includes(raw)) {
      throw new ConfigError(variable, raw, `expected one of ${choices.join(', ')}`);
    }
    return raw as T;
  };

const wholeNumber =
  (min: number, max: number): Parse<number> =>
  (raw, variable) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      throw new ConfigError(variable, raw, `expected a whole number from ${min} to ${max}`);
    }
    return value;
  };

const positiveInt = (max: number): Parse<number> => wholeNumber(1, max);

const share: Parse<number> = (raw, variable) => {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(variable, raw, 'expected a number from 0 to 1');
  return value;
};

const milliseconds = (raw: string, variable: string): number => {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 3_600_000) {
    throw new ConfigError(variable, raw, 'expected milliseconds from 0 to 3600000');
  }
  return value;
};

const topicPrefix: Parse<string> = (raw, variable) => {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(raw)) {
    throw new ConfigError(variable, raw, 'expected 1-100 characters of [A-Za-z0-9._-]');
  }
  return raw;
};

const secret: Parse<string> = (raw, variable) => {
  if (raw.length < 16) throw new ConfigError(variable, '(hidden)', 'expected at least 16 characters');
  return raw;
};

const systemUser: Parse<string> = (raw, variable) => {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(raw)) {
    throw new ConfigError(variable, raw, 'expected a POSIX user name');
  }
  return raw;
};

/**
 * Settings an app declares for itself, read and checked the same way as Strata's
 * own and listed beside them by `strata config`.
 */
export const appSetting = {
  integer: (variable: string, description: string, fallback: number, range: { min?: number; max?: number } = {}): Setting<number> =>
    setting(variable, description, String(fallback), wholeNumber(range.min ?? 0, range.max ?? Number.MAX_SAFE_INTEGER)),
  string: (variable: string, description: string, fallback: string): Setting<string> => setting(variable, description, fallback, (raw) => raw),
  oneOf: <T extends string>(variable: string, description: string, fallback: T, choices: readonly T[]): Setting<T> =>
    setting(variable, description, fallback, oneOf(...choices)),
};

/** The values of a set of settings in `env`; throws ConfigError naming the first invalid one. */
export function settingValues<S extends Readonly<Record<string, Setting<unknown>>>>(
  declared: S,
  env: NodeJS.ProcessEnv = process.env,
): { [K in keyof S]: S[K] extends Setting<infer T> ? T : never } {
  return Object.fromEntries(
    Object.entries(declared).map(([name, entry]) => {
      const raw = env[entry.variable];
      const text = raw === undefined || raw === '' ? entry.fallback : raw;
      return [name, text === undefined ? undefined : entry.parse(text, entry.variable)];
    }),
  ) as { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };
}

export const settings = {
  logLevel: setting(
    'STRATA_LOG_LEVEL',
    'Log level of every process',
    'info',
    oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  ),
  logFormat: setting(
    'STRATA_LOG_FORMAT',
    'Log lines as JSON, or pretty for people; auto: pretty on a terminal, JSON otherwise',
    'auto',
    oneOf('auto', 'json', 'pretty'),
  ),
  stackDir: setting(
    'STRATA_STACK_DIR',
    "Local stack's data, logs and pid files (git-ignored), relative to the project (the nearest folder with a package.json)",
    '.strata',
    directory,
  ),
  stackSecurity: setting(
    'STRATA_STACK_SECURITY',
    "on: the local stack's Kafka, Redis and Elasticsearch take only TLS connections that sign in (a CA, certificates and passwords made once in $STRATA_STACK_DIR/security, where the services find them); off: plain connections, on loopback",
    'off',
    oneOf('on', 'off'),
  ),
  artifactsDir: setting(
    'STRATA_ARTIFACTS_DIR',
    'Cache of the server artifacts fetched from Maven Central, shared by the projects of a user',
    { derivedFrom: '$XDG_CACHE_HOME/strata/artifacts, else ~/.cache/strata/artifacts (root: /var/cache/strata/artifacts)' },
    directory,
  ),
  kafkaPort: setting('STRATA_KAFKA_PORT', 'Kafka broker port (local stack)', '9092', port),
  kafkaControllerPort: setting(
    'STRATA_KAFKA_CONTROLLER_PORT',
    'Kafka KRaft controller port (local stack)',
    '9093',
    port,
  ),
  kafkaHeap: setting('STRATA_KAFKA_HEAP', 'Kafka JVM heap (local stack)', '1g', heap),
  kafkaBrokers: setting(
    'STRATA_KAFKA_BROKERS',
    'Kafka bootstrap servers the services use, comma-separated',
    { derivedFrom: '127.0.0.1:$STRATA_KAFKA_PORT' },
    hostPorts,
  ),
  kafkaSecurityProtocol: setting(
    'STRATA_KAFKA_SECURITY_PROTOCOL',
    "How the services connect to Kafka: PLAINTEXT, SSL (TLS), SASL_SSL (TLS and a login) or SASL_PLAINTEXT (a login, unencrypted)",
    { derivedFrom: "PLAINTEXT; with STRATA_STACK_SECURITY=on and STRATA_KAFKA_BROKERS unset, the local stack's: SASL_SSL" },
    oneOf('PLAINTEXT', 'SSL', 'SASL_SSL', 'SASL_PLAINTEXT'),
  ),
  kafkaSaslMechanism: setting(
    'STRATA_KAFKA_SASL_MECHANISM',
    'The SASL mechanism of a SASL_* protocol: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
    'SCRAM-SHA-512',
    oneOf('PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'),
  ),
  kafkaLogin: setting(
    'STRATA_KAFKA_LOGIN',
    'The SASL user the services sign in to Kafka as, with STRATA_KAFKA_PASSWORD',
    { derivedFrom: "none; with STRATA_STACK_SECURITY=on and STRATA_KAFKA_BROKERS unset, the local stack's: strata" },
    (raw) => raw,
  ),
  kafkaPassword: {
    ...setting(
      'STRATA_KAFKA_PASSWORD',
      "STRATA_KAFKA_LOGIN's password",
      { derivedFrom: "none; with STRATA_STACK_SECURITY=on and STRATA_KAFKA_BROKERS unset, the local stack's, in $STRATA_STACK_DIR/security/kafka-password" },
      (raw) => raw,
    ),
    secret: true,
  },
  kafkaCa: setting(
    'STRATA_KAFKA_CA',
    "PEM file of the CA that signed the brokers' certificates, for SSL and SASL_SSL (relative to the project)",
    { derivedFrom: "the system's CAs; with STRATA_STACK_SECURITY=on and STRATA_KAFKA_BROKERS unset, the local stack's, $STRATA_STACK_DIR/security/ca.pem" },
    pemFile,
  ),
  kafkaCertificate: setting(
    'STRATA_KAFKA_CERTIFICATE',
    "PEM file of the services' client certificate, for brokers that ask for one (SSL and SASL_SSL), with STRATA_KAFKA_KEY",
    { derivedFrom: 'none' },
    pemFile,
  ),
  kafkaKey: setting(
    'STRATA_KAFKA_KEY',
    "PEM file of STRATA_KAFKA_CERTIFICATE's private key",
    { derivedFrom: 'none' },
    pemFile,
  ),
  elasticsearchPort: setting(
    'STRATA_ELASTICSEARCH_PORT',
    'Elasticsearch HTTP port (local stack)',
    '9200',
    port,
  ),
  elasticsearchTransportPort: setting(
    'STRATA_ELASTICSEARCH_TRANSPORT_PORT',
    'Elasticsearch transport port (local stack)',
    '9300',
    port,
  ),
  elasticsearchHeap: setting(
    'STRATA_ELASTICSEARCH_HEAP',
    'Elasticsearch JVM heap (local stack)',
    '1g',
    heap,
  ),
  elasticsearchUser: setting(
    'STRATA_ELASTICSEARCH_USER',
    'System user Elasticsearch runs as when the stack is started by root',
    'strata-es',
    systemUser,
  ),
  elasticsearchUrl: setting(
    'STRATA_ELASTICSEARCH_URL',
    "Elasticsearch URL the services use, or the URLs of several nodes, comma-separated (a request that fails on one node is tried on the next); the local stack's other nodes only when listed",
    { derivedFrom: 'http://127.0.0.1:$STRATA_ELASTICSEARCH_PORT (https:// with STRATA_STACK_SECURITY=on)' },
    urlList,
  ),
  elasticsearchReplicas: setting(
    'STRATA_ELASTICSEARCH_REPLICAS',
    'Replicas of each shard of every index Strata creates (set when the index is created)',
    { derivedFrom: 'index.auto_expand_replicas 0-1: none on one data node, one where there are two or more' },
    wholeNumber(0, 100),
  ),
  elasticsearchLogin: setting(
    'STRATA_ELASTICSEARCH_LOGIN',
    'The Elasticsearch user the services sign in as, with STRATA_ELASTICSEARCH_PASSWORD (not STRATA_ELASTICSEARCH_USER, the system user the local stack runs Elasticsearch as)',
    { derivedFrom: "none; with STRATA_STACK_SECURITY=on and STRATA_ELASTICSEARCH_URL unset, the local stack's: strata" },
    (raw) => raw,
  ),
  elasticsearchPassword: {
    ...setting(
      'STRATA_ELASTICSEARCH_PASSWORD',
      "STRATA_ELASTICSEARCH_LOGIN's password",
      { derivedFrom: "none; with STRATA_STACK_SECURITY=on and STRATA_ELASTICSEARCH_URL unset, the local stack's, in $STRATA_STACK_DIR/security/elasticsearch-password" },
      (raw) => raw,
    ),
    secret: true,
  },
  elasticsearchApiKey: {
    ...setting(
      'STRATA_ELASTICSEARCH_API_KEY',
      "An API key the services sign in with instead of a login: the `encoded` value of Elasticsearch's create API key answer (base64 of id:key)",
      { derivedFrom: 'none' },
      (raw) => raw,
    ),
    secret: true,
  },
  elasticsearchCa: setting(
    'STRATA_ELASTICSEARCH_CA',
    "PEM file of the CA that signed Elasticsearch's certificate, for an https:// STRATA_ELASTICSEARCH_URL (relative to the project)",
    { derivedFrom: "the system's CAs; with STRATA_STACK_SECURITY=on and STRATA_ELASTICSEARCH_URL unset, the local stack's, $STRATA_STACK_DIR/security/ca.pem" },
    pemFile,
  ),
  redisPort: setting(
    'STRATA_REDIS_PORT',
    "Redis port (local stack; not 6379, so a system Redis is left alone)",
    '6380',
    port,
  ),
  redisUrl: setting(
    'STRATA_REDIS_URL',
    'Redis URL the services use; rediss:// for TLS, and it may carry the user and password (rediss://user:password@host:port)',
    { derivedFrom: 'redis://127.0.0.1:$STRATA_REDIS_PORT (rediss:// with STRATA_STACK_SECURITY=on)' },
    url,
  ),
  redisLogin: setting(
    'STRATA_REDIS_LOGIN',
    "The Redis ACL user the services sign in as, with STRATA_REDIS_PASSWORD (over the URL's)",
    { derivedFrom: "the URL's user, else default; with STRATA_STACK_SECURITY=on and STRATA_REDIS_URL unset, the local stack's: strata" },
    (raw) => raw,
  ),
  redisPassword: {
    ...setting(
      'STRATA_REDIS_PASSWORD',
      "The Redis user's password (over the URL's)",
      { derivedFrom: "the URL's password, else none; with STRATA_STACK_SECURITY=on and STRATA_REDIS_URL unset, the local stack's, in $STRATA_STACK_DIR/security/redis-password" },
      (raw) => raw,
    ),
    secret: true,
  },
  redisCa: setting(
    'STRATA_REDIS_CA',
    "PEM file of the CA that signed the Redis server's certificate, for a rediss:// STRATA_REDIS_URL (relative to the project)",
    { derivedFrom: "the system's CAs; with STRATA_STACK_SECURITY=on and STRATA_REDIS_URL unset, the local stack's, $STRATA_STACK_DIR/security/ca.pem" },
    pemFile,
  ),
  zipkinPort: setting('STRATA_ZIPKIN_PORT', 'Zipkin port (local stack)', '9411', port),
  zipkinHeap: setting('STRATA_ZIPKIN_HEAP', 'Zipkin JVM heap (local stack)', '384m', heap),
  keycloakPort: setting('STRATA_KEYCLOAK_PORT', 'Keycloak HTTP port (local stack, optional server)', '8180', port),
  keycloakManagementPort: setting('STRATA_KEYCLOAK_MANAGEMENT_PORT', "Keycloak's health and metrics port (local stack)", '9180', port),
  keycloakHeap: setting('STRATA_KEYCLOAK_HEAP', 'Keycloak JVM heap (local stack)', '512m', heap),
  environment: setting(
    'STRATA_ENV',
    'production: `strata start` refuses to run with a development default (authentication off, the local cursor key or saga secret, an identity provider over http:// off this machine); development: it runs with them, warning',
    { derivedFrom: 'production for strata start --no-stack, development with the local stack' },
    oneOf('development', 'production'),
  ),
  auth: setting(
    'STRATA_AUTH',
    'on: every request needs a verified bearer token; off: anyone may do anything (local development only, said at start)',
    'on',
    oneOf('on', 'off'),
  ),
  authIssuers: setting(
    'STRATA_AUTH_ISSUERS',
    "The identity providers whose tokens are accepted (issuer URLs, comma-separated); by default the local stack's Keycloak, and `strata start --no-stack` with STRATA_AUTH=on refuses to start without it",
    { derivedFrom: 'http://127.0.0.1:$STRATA_KEYCLOAK_PORT/realms/strata' },
    urls,
  ),
  authAudience: setting('STRATA_AUTH_AUDIENCE', 'The audience (aud) an access token must name', 'strata-api', (raw) => raw),
  authAlgorithms: setting('STRATA_AUTH_ALGORITHMS', 'Signature algorithms a token may use, comma-separated (asymmetric only)', 'RS256,PS256,ES256,EdDSA', algorithms),
  authClockSkewSeconds: setting('STRATA_AUTH_CLOCK_SKEW_SECONDS', 'Leeway on exp and nbf for clocks that disagree', '30', wholeNumber(0, 300)),
  authTenantClaim: setting('STRATA_AUTH_TENANT_CLAIM', "The claim naming the principal's tenant (absent: the default tenant, with STRATA_AUTH_TENANTS=single)", 'tenant', claimPath),
  authTenants: setting(
    'STRATA_AUTH_TENANTS',
    'single: a token without the tenant claim acts for the default tenant; multi (an app with several tenants): such a token is refused (401)',
    'single',
    oneOf('single', 'multi'),
  ),
  authServiceClients: setting(
    'STRATA_AUTH_SERVICE_CLIENTS',
    'The OAuth clients (azp) whose tokens may name every tenant (*), comma-separated: the platform\'s own services; a * from any other client is refused (401)',
    { derivedFrom: '$STRATA_SAGA_CLIENT_ID' },
    clientIds,
  ),
  rateLimitPerMinute: setting(
    'STRATA_RATE_LIMIT_PER_MINUTE',
    'Requests a principal may make to one route of a service per minute, counted in Redis across instances (with STRATA_AUTH=on; 0: no limit)',
    '6000',
    wholeNumber(0, 100_000_000),
  ),
  authSubjectClaim: setting(
    'STRATA_AUTH_SUBJECT_CLAIM',
    "The claim that is the principal's subject, which access rules compare with ids in commands and queries (the local realm's `sub` is the user name)",
    'sub',
    claimPath,
  ),
  authRolesClaim: setting('STRATA_AUTH_ROLES_CLAIM', "The claim listing the principal's roles (a dotted path into the token)", 'realm_access.roles', claimPath),
  zipkinUrl: setting(
    'STRATA_ZIPKIN_URL',
    'Zipkin URL traces are sent to and read from',
    { derivedFrom: 'http://127.0.0.1:$STRATA_ZIPKIN_PORT' },
    url,
  ),
  tracesPerSecond: setting(
    'STRATA_TRACES_PER_SECOND',
    'New traces each process records per second before sampling by ratio (when OTEL_TRACES_SAMPLER is not set)',
    '5',
    wholeNumber(0, 100_000),
  ),
  tracesRatio: setting(
    'STRATA_TRACES_RATIO',
    'Share of the further new traces recorded (when OTEL_TRACES_SAMPLER is not set)',
    '0.01',
    share,
  ),
  topicPrefix: setting(
    'STRATA_TOPIC_PREFIX',
    'Prefix of every Kafka topic and consumer group Strata creates',
    'strata',
    topicPrefix,
  ),
  partitions: setting(
    'STRATA_PARTITIONS',
    'Partitions of the commands and events topics (created at first start)',
    '4',
    positiveInt(1024),
  ),
  replicationFactor: setting(
    'STRATA_REPLICATION_FACTOR',
    'Replicas of each partition of every topic Strata creates, whose min.insync.replicas is one less (at least 1); start refuses when the cluster has fewer brokers for a topic to create, or a topic exists with fewer replicas',
    { derivedFrom: "3, or the cluster's broker count when smaller" },
    // Kafka's limit: the factor is a 16-bit integer.
    positiveInt(32_767),
  ),
  bindHost: setting(
    'STRATA_BIND_HOST',
    "The address every listener of a Strata process binds (gateway and query HTTP and gRPC, a processor's gRPC, /metrics): 0.0.0.0 or :: for every interface",
    '127.0.0.1',
    host,
  ),
  advertisedHost: setting(
    'STRATA_ADVERTISED_HOST',
    "The host other machines reach this process at: the address a command processor publishes for the gateway's direct route",
    { derivedFrom: "$STRATA_BIND_HOST, or this machine's host name when that is 0.0.0.0 or ::" },
    host,
  ),
  gatewayPort: setting('STRATA_GATEWAY_PORT', 'HTTP port of the write API (gateway)', '8080', port),
  gatewayGrpcPort: setting('STRATA_GATEWAY_GRPC_PORT', 'gRPC port of the CommandService (gateway)', '50051', port),
  commandTimeoutMs: setting(
    'STRATA_COMMAND_TIMEOUT_MS',
    "How long the gateway waits for a command's outcome before answering 202",
    '5000',
    milliseconds,
  ),
  commandRoute: setting(
    'STRATA_COMMAND_ROUTE',
    "How the gateway hands a command to its partition's processor: direct (gRPC to the owner, the commands topic when it cannot be reached) or topic (always the commands topic)",
    'direct',
    oneOf('direct', 'topic'),
  ),
  processorGrpcPort: setting(
    'STRATA_PROCESSOR_GRPC_PORT',
    'gRPC port on which a command processor takes commands from gateways (0: any free port; each owner advertises its own on the status topic)',
    '0',
    portOrAny,
  ),
  idempotencyWindow: setting(
    'STRATA_IDEMPOTENCY_WINDOW',
    'Command ids remembered per aggregate for idempotent retries',
    '100',
    positiveInt(100_000),
  ),
  checkpointEvery: setting(
    'STRATA_CHECKPOINT_EVERY',
    'Events a processor writes to a partition between two snapshot checkpoints',
    '10000',
    positiveInt(1_000_000),
  ),
  transactionTimeoutMs: setting(
    'STRATA_TRANSACTION_TIMEOUT_MS',
    'Kafka transaction timeout of the command processors',
    '10000',
    milliseconds,
  ),
  sessionTimeoutMs: setting(
    'STRATA_SESSION_TIMEOUT_MS',
    'Consumer-group session timeout of processors and projectors (how soon a dead one is replaced)',
    '10000',
    milliseconds,
  ),
  gatherMs: setting(
    'STRATA_GATHER_MS',
    'How long Elasticsearch projections and sagas let new events gather into one batch (fewer fetches and writes; 0: each event at once)',
    '200',
    milliseconds,
  ),
  refreshIntervalMs: setting(
    'STRATA_REFRESH_INTERVAL_MS',
    "Refresh interval of the projections' Elasticsearch indices (how soon writes are searchable)",
    '500',
    milliseconds,
  ),
  projectorRetryMaxMs: setting(
    'STRATA_PROJECTOR_RETRY_MAX_MS',
    'Longest wait between two attempts of a projector to reach a store that is down',
    '5000',
    milliseconds,
  ),
  queryPort: setting('STRATA_QUERY_PORT', 'HTTP port of the read API (query service)', '8081', port),
  queryGrpcPort: setting('STRATA_QUERY_GRPC_PORT', 'gRPC port of the QueryService (query service)', '50052', port),
  consistencyWaitMs: setting(
    'STRATA_CONSISTENCY_WAIT_MS',
    'Longest a read given X-Consistency-Token waits for its read model before answering 503',
    '5000',
    milliseconds,
  ),
  consistencyMaxWaiting: setting(
    'STRATA_CONSISTENCY_MAX_WAITING',
    'Reads a query instance lets wait on consistency tokens at once; over it, 503 with Retry-After',
    '1000',
    positiveInt(1_000_000),
  ),
  consistencyMaxWaitingPerTenant: setting(
    'STRATA_CONSISTENCY_MAX_WAITING_PER_TENANT',
    "Reads of one tenant a query instance lets wait on consistency tokens at once; over it, 429 with Retry-After (one tenant cannot take the others' share)",
    '250',
    positiveInt(1_000_000),
  ),
  consistencyPollMs: setting(
    'STRATA_CONSISTENCY_POLL_MS',
    "How often a query instance reads a projection's checkpoints while reads wait on it (one read for all of them)",
    '5',
    positiveInt(10_000),
  ),
  cursorSecret: {
    ...setting(
      'STRATA_CURSOR_SECRET',
      'Key that signs search cursors; give every query instance the same one (the default suits local use only)',
      'strata-local-cursor-key',
      secret,
    ),
    secret: true,
  },
  backendTimeoutMs: setting(
    'STRATA_BACKEND_TIMEOUT_MS',
    'A query call to Redis or Elasticsearch taking longer than this counts as failed',
    '2000',
    positiveInt(600_000),
  ),
  breakerResetMs: setting(
    'STRATA_BREAKER_RESET_MS',
    'How long an open circuit breaker refuses calls before it tries its backend again (the Retry-After)',
    '5000',
    positiveInt(600_000),
  ),
  processorMetricsPort: setting(
    'STRATA_PROCESSOR_METRICS_PORT',
    'Port of a command processor\'s Prometheus /metrics (instance i of `strata start --instances` adds i)',
    '9464',
    port,
  ),
  projectorMetricsPort: setting(
    'STRATA_PROJECTOR_METRICS_PORT',
    'Port of a projector\'s Prometheus /metrics (instance i of `strata start --instances` adds i)',
    '9474',
    port,
  ),
  sagaMetricsPort: setting('STRATA_SAGA_METRICS_PORT', "Port of a saga process's Prometheus /metrics", '9484', port),
  sagaCommandService: setting(
    'STRATA_SAGA_COMMAND_SERVICE',
    "host:port of the write side's gRPC CommandService that sagas send their commands to",
    { derivedFrom: '$STRATA_BIND_HOST:$STRATA_GATEWAY_GRPC_PORT (127.0.0.1 for a wildcard bind host)' },
    hostPort,
  ),
  sagaClientId: setting('STRATA_SAGA_CLIENT_ID', 'The OAuth client sagas sign in as (client credentials) when STRATA_AUTH=on', 'strata-saga', (raw) => raw),
  sagaClientSecret: {
    ...setting('STRATA_SAGA_CLIENT_SECRET', "That client's secret (the default is the local stack's)", 'strata-saga-secret', secret),
    secret: true,
  },
  internalSecret: {
    ...setting(
      'STRATA_INTERNAL_SECRET',
      "The secret Strata's own services sign their calls to each other with (a gateway's direct-route calls to command processors): the same on every host",
      { derivedFrom: 'a random secret kept in $STRATA_STACK_DIR/internal-secret, shared by the project on this host' },
      secret,
    ),
    secret: true,
  },
  sagaStartAt: setting(
    'STRATA_SAGA_START_AT',
    'Where a saga that never ran starts reading the log: the first event written at or after this time (ISO 8601); `strata start` sets it to its own start for the processes it starts',
    { derivedFrom: 'the saga process\'s start' },
    instant,
  ),
  sagaDeadlinePollMs: setting(
    'STRATA_SAGA_DEADLINE_POLL_MS',
    'How often a saga process looks for deadlines that are due (how late a deadline may fire)',
    '500',
    positiveInt(60_000),
  ),
  testPauseBeforeCommitMs: setting(
    'STRATA_TEST_PAUSE_BEFORE_COMMIT_MS',
    'Test hook only: processors sleep this long between send and commit, projectors before committing a batch',
    '0',
    milliseconds,
  ),
} as const;

export interface Config {
  logLevel: LogLevel;
  logFormat: 'auto' | 'json' | 'pretty';
  /** STRATA_ENV when set; `strata start` decides when it is not (production without the local stack). */
  environment?: 'development' | 'production';
  /** `security`: the local stack's Redis and Elasticsearch take TLS connections that sign in (STRATA_STACK_SECURITY=on). */
  stack: { dir: string; artifactsDir: string; security: boolean };
  kafka: { brokers: string[]; port: number; controllerPort: number; heap: string; sessionTimeoutMs: number; gatherMs: number; security: KafkaSecurity };
  elasticsearch: StoreAccess & {
    url: string;
    port: number;
    transportPort: number;
    heap: string;
    /** The system user the local stack runs Elasticsearch as (root only), not a user it signs in as (`login`). */
    user: string;
    apiKey?: string;
    /** Replicas of each index Strata creates; unset: 0 or 1, as the cluster's data nodes allow (auto-expanded). */
    replicas?: number;
  };
  redis: StoreAccess & { url: string; port: number };
  zipkin: { url: string; port: number; heap: string };
  keycloak: { port: number; managementPort: number; heap: string };
  auth: AuthSettings;
  tracing: { perSecond: number; ratio: number };
  /** `replicationFactor`: unset, 3 or the cluster's broker count when smaller (planReplication, shared/topics.ts). */
  topics: { prefix: string; partitions: number; replicationFactor?: number };
  network: { bindHost: string; advertisedHost: string };
  internal: { secret: string | undefined };
  writeSide: {
    gatewayPort: number;
    gatewayGrpcPort: number;
    commandTimeoutMs: number;
    commandRoute: 'direct' | 'topic';
    processorGrpcPort: number;
    idempotencyWindow: number;
    checkpointEvery: number;
    transactionTimeoutMs: number;
    testPauseBeforeCommitMs: number;
  };
  projections: { refreshIntervalMs: number; retryMaxMs: number };
  /** Where processes without an HTTP API serve /metrics (the gateway and query service serve it on theirs). */
  metrics: { processorPort: number; projectorPort: number; sagaPort: number };
  saga: { commandService: string; deadlinePollMs: number; clientId: string; clientSecret: string; startAt: Date };
  readSide: {
    queryPort: number;
    queryGrpcPort: number;
    consistencyWaitMs: number;
    /** Reads waiting on consistency tokens at once: in all, and of one tenant. */
    maxWaiting: { total: number; perTenant: number };
    consistencyPollMs: number;
    cursorSecret: string;
    backendTimeoutMs: number;
    breakerResetMs: number;
  };
}

export interface AuthSettings {
  enabled: boolean;
  rateLimitPerMinute: number;
  issuers: readonly string[];
  audience: string;
  algorithms: readonly string[];
  clockSkewSeconds: number;
  subjectClaim: string;
  tenantClaim: string;
  /** multi: a token must name its tenant. */
  tenants: 'single' | 'multi';
  /** Clients whose tokens may name every tenant (`*`). */
  serviceClients: readonly string[];
  rolesClaim: string;
}

/** How a client signs in to Redis or Elasticsearch, and which CA it trusts. */
export interface StoreAccess {
  login?: string;
  password?: string;
  /** Where the password is kept when it is the local stack's (made on first use: shared/project-secret.ts). */
  passwordFile?: string;
  /** PEM file of the CA that signed the server's certificate; the system's CAs when unset. */
  ca?: string;
}

/** How the services connect to Kafka: the protocol, and for SASL_* a login, for SSL a CA and maybe a client certificate. */
export interface KafkaSecurity extends StoreAccess {
  protocol: 'PLAINTEXT' | 'SSL' | 'SASL_SSL' | 'SASL_PLAINTEXT';
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  certificate?: string;
  key?: string;
}

/** The local stack's CA, server certificate and passwords (STRATA_STACK_SECURITY=on), in one place. */
export function stackSecurityFiles(stackDir: string) {
  const dir = join(stackDir, 'security');
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    certificate: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
    redisPassword: join(dir, 'redis-password'),
    elasticsearchPassword: join(dir, 'elasticsearch-password'),
    kafkaPassword: join(dir, 'kafka-password'),
  };
}

/** The user the local stack's secured Redis and Elasticsearch let the services in as. */
export const stackLogin = 'strata';

/** How a client reaches the local stack's Redis or Elasticsearch: plainly, or over TLS as the stack's user when it is secured. */
export function localStore(stack: Config['stack'], store: 'redis' | 'elasticsearch', port: number): StoreAccess & { url: string } {
  const scheme = store === 'redis' ? 'redis' : 'http';
  if (!stack.security) return { url: `${scheme}://127.0.0.1:${String(port)}` };
  const files = stackSecurityFiles(stack.dir);
  return {
    url: `${scheme === 'redis' ? 'rediss' : 'https'}://127.0.0.1:${String(port)}`,
    login: stackLogin,
    passwordFile: store === 'redis' ? files.redisPassword : files.elasticsearchPassword,
    ca: files.ca,
  };
}

type Read = <T>(entry: Setting<T>) => T | undefined;

/**
 * A store's URL and access: the settings, and what they leave unset from the local
 * stack, unless the URL is set (then it is another server, and the stack's user and CA
 * mean nothing to it).
 */
function storeOf(
  read: Read,
  entries: { url: Setting<string>; login: Setting<string>; password: Setting<string>; ca: Setting<string> },
  local: StoreAccess & { url: string },
): StoreAccess & { url: string } {
  const url = read(entries.url);
  const stack: StoreAccess = url === undefined ? local : {};
  const password = read(entries.password);
  const store = {
    url: url ?? local.url,
    login: read(entries.login) ?? stack.login,
    ...(password !== undefined ? { password } : stack.passwordFile !== undefined ? { passwordFile: stack.passwordFile } : {}),
    ca: read(entries.ca) ?? stack.ca,
  };
  if (store.ca !== undefined && /(^|,)(redis|http):/.test(store.url)) {
    throw new ConfigError(entries.ca.variable, store.ca, `a CA is for TLS connections, and ${entries.url.variable} is ${redactUrl(store.url)} (rediss:// or https:// for TLS)`);
  }
  return store;
}

/** Redis and Elasticsearch: where the services reach them, how they sign in, and the local stack's servers. */
function authOf(optional: Read, get: <T>(entry: Setting<T>) => T, keycloakPort: number): AuthSettings {
  return {
    enabled: get(settings.auth) === 'on',
    rateLimitPerMinute: get(settings.rateLimitPerMinute),
    issuers: optional(settings.authIssuers) ?? [`http://127.0.0.1:${String(keycloakPort)}/realms/strata`],
    audience: get(settings.authAudience),
    algorithms: get(settings.authAlgorithms),
    clockSkewSeconds: get(settings.authClockSkewSeconds),
    subjectClaim: get(settings.authSubjectClaim),
    tenantClaim: get(settings.authTenantClaim),
    tenants: get(settings.authTenants),
    serviceClients: optional(settings.authServiceClients) ?? [get(settings.sagaClientId)],
    rolesClaim: get(settings.authRolesClaim),
  };
}

function storesOf(optional: Read, get: <T>(entry: Setting<T>) => T, stack: Config['stack']): Pick<Config, 'elasticsearch' | 'redis'> {
  const elasticsearchPort = get(settings.elasticsearchPort);
  const redisPort = get(settings.redisPort);
  return {
    elasticsearch: {
      ...storeOf(optional, { url: settings.elasticsearchUrl, login: settings.elasticsearchLogin, password: settings.elasticsearchPassword, ca: settings.elasticsearchCa }, localStore(stack, 'elasticsearch', elasticsearchPort)),
      apiKey: optional(settings.elasticsearchApiKey),
      replicas: optional(settings.elasticsearchReplicas),
      port: elasticsearchPort,
      transportPort: get(settings.elasticsearchTransportPort),
      heap: get(settings.elasticsearchHeap),
      user: get(settings.elasticsearchUser),
    },
    redis: {
      ...storeOf(optional, { url: settings.redisUrl, login: settings.redisLogin, password: settings.redisPassword, ca: settings.redisCa }, localStore(stack, 'redis', redisPort)),
      port: redisPort,
    },
  };
}

/**
 * Kafka's connection: the settings, and what they leave unset from the local stack when
 * STRATA_KAFKA_BROKERS is unset (the stack's brokers, SASL_SSL when it is secured).
 */
/** How a client reaches the local stack's Kafka: plainly, or SASL_SSL as the stack's user when it is secured. */
export function localKafkaSecurity(stack: Config['stack']): KafkaSecurity {
  if (!stack.security) return { protocol: 'PLAINTEXT', mechanism: 'SCRAM-SHA-512' };
  const files = stackSecurityFiles(stack.dir);
  return { protocol: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', login: stackLogin, passwordFile: files.kafkaPassword, ca: files.ca };
}

function kafkaSecurityOf(read: Read, stack: Config['stack'], brokersSet: boolean): KafkaSecurity {
  // Another cluster than the stack's: the stack's user and CA mean nothing to it.
  const local: Partial<KafkaSecurity> = brokersSet ? {} : localKafkaSecurity(stack);
  const password = read(settings.kafkaPassword);
  const security: KafkaSecurity = {
    protocol: read(settings.kafkaSecurityProtocol) ?? local.protocol ?? 'PLAINTEXT',
    mechanism: read(settings.kafkaSaslMechanism) ?? 'SCRAM-SHA-512',
    login: read(settings.kafkaLogin) ?? local.login,
    ...(password !== undefined ? { password } : local.passwordFile !== undefined ? { passwordFile: local.passwordFile } : {}),
    ca: read(settings.kafkaCa) ?? local.ca,
    certificate: read(settings.kafkaCertificate),
    key: read(settings.kafkaKey),
  };
  const tls = security.protocol.endsWith('SSL');
  for (const [entry, value] of [[settings.kafkaCa, security.ca], [settings.kafkaCertificate, security.certificate]] as const) {
    if (value !== undefined && !tls) throw new ConfigError(entry.variable, value, `a certificate is for TLS connections, and STRATA_KAFKA_SECURITY_PROTOCOL is ${security.protocol} (SSL or SASL_SSL for TLS)`);
  }
  if ((security.certificate === undefined) !== (security.key === undefined)) {
    throw new ConfigError(settings.kafkaKey.variable, security.key ?? '', 'a client certificate needs its key: set both STRATA_KAFKA_CERTIFICATE and STRATA_KAFKA_KEY');
  }
  if (security.protocol.startsWith('SASL') && security.login === undefined) {
    throw new ConfigError(settings.kafkaLogin.variable, '', `STRATA_KAFKA_SECURITY_PROTOCOL ${security.protocol} signs in: set STRATA_KAFKA_LOGIN and STRATA_KAFKA_PASSWORD`);
  }
  return security;
}

/** A wildcard bind host tells others nothing: they reach the machine by its name. */
const networkOf = (bindHost: string, advertised: string | undefined) => ({
  bindHost,
  advertisedHost: advertised ?? (isWildcard(bindHost) ? hostname() : bindHost),
});

/** Reads and validates every setting; throws ConfigError on the first bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const optional = <T>(entry: Setting<T>): T | undefined => {
    const raw = env[entry.variable];
    const text = raw === undefined || raw === '' ? entry.fallback : raw;
    return text === undefined ? undefined : entry.parse(text, entry.variable);
  };
  const get = <T>(entry: Setting<T>): T => {
    const value = optional(entry);
    if (value === undefined) throw new Error(`${entry.variable} has no default`);
    return value;
  };
  const kafkaPort = get(settings.kafkaPort);
  const zipkinPort = get(settings.zipkinPort);
  const keycloakPort = get(settings.keycloakPort);
  const stack = { dir: get(settings.stackDir), artifactsDir: optional(settings.artifactsDir) ?? join(userCacheDir(), 'artifacts'), security: get(settings.stackSecurity) === 'on' };
  return {
    logLevel: get(settings.logLevel),
    logFormat: get(settings.logFormat),
    ...(optional(settings.environment) === undefined ? {} : { environment: optional(settings.environment) }),
    stack,
    kafka: {
      brokers: optional(settings.kafkaBrokers) ?? [`127.0.0.1:${kafkaPort}`],
      port: kafkaPort,
      controllerPort: get(settings.kafkaControllerPort),
      heap: get(settings.kafkaHeap),
      sessionTimeoutMs: get(settings.sessionTimeoutMs),
      gatherMs: get(settings.gatherMs),
      security: kafkaSecurityOf(optional, stack, optional(settings.kafkaBrokers) !== undefined),
    },
    ...storesOf(optional, get, stack),
    zipkin: {
      url: optional(settings.zipkinUrl) ?? `http://127.0.0.1:${zipkinPort}`,
      port: zipkinPort,
      heap: get(settings.zipkinHeap),
    },
    keycloak: { port: keycloakPort, managementPort: get(settings.keycloakManagementPort), heap: get(settings.keycloakHeap) },
    auth: authOf(optional, get, keycloakPort),
    tracing: { perSecond: get(settings.tracesPerSecond), ratio: get(settings.tracesRatio) },
    topics: { prefix: get(settings.topicPrefix), partitions: get(settings.partitions), replicationFactor: optional(settings.replicationFactor) },
    network: networkOf(get(settings.bindHost), optional(settings.advertisedHost)),
    internal: { secret: optional(settings.internalSecret) },
    writeSide: {
      gatewayPort: get(settings.gatewayPort),
      gatewayGrpcPort: get(settings.gatewayGrpcPort),
      commandTimeoutMs: get(settings.commandTimeoutMs),
      commandRoute: get(settings.commandRoute),
      processorGrpcPort: get(settings.processorGrpcPort),
      idempotencyWindow: get(settings.idempotencyWindow),
      checkpointEvery: get(settings.checkpointEvery),
      transactionTimeoutMs: get(settings.transactionTimeoutMs),
      testPauseBeforeCommitMs: get(settings.testPauseBeforeCommitMs),
    },
    projections: { refreshIntervalMs: get(settings.refreshIntervalMs), retryMaxMs: get(settings.projectorRetryMaxMs) },
    metrics: { processorPort: get(settings.processorMetricsPort), projectorPort: get(settings.projectorMetricsPort), sagaPort: get(settings.sagaMetricsPort) },
    saga: {
      commandService: optional(settings.sagaCommandService) ?? joinHostPort(localHost(get(settings.bindHost)), get(settings.gatewayGrpcPort)),
      deadlinePollMs: get(settings.sagaDeadlinePollMs),
      startAt: optional(settings.sagaStartAt) ?? new Date(performance.timeOrigin),
      clientId: get(settings.sagaClientId),
      clientSecret: get(settings.sagaClientSecret),
    },
    readSide: {
      queryPort: get(settings.queryPort),
      queryGrpcPort: get(settings.queryGrpcPort),
      consistencyWaitMs: get(settings.consistencyWaitMs),
      maxWaiting: { total: get(settings.consistencyMaxWaiting), perTenant: get(settings.consistencyMaxWaitingPerTenant) },
      consistencyPollMs: get(settings.consistencyPollMs),
      cursorSecret: get(settings.cursorSecret),
      backendTimeoutMs: get(settings.backendTimeoutMs),
      breakerResetMs: get(settings.breakerResetMs),
    },
  };
}

/** The stack's directory layout, in one place. */
export function stackPaths(config: Config) {
  const dir = config.stack.dir;
  return {
    data: join(dir, 'data'),
    logs: join(dir, 'logs'),
    run: join(dir, 'run'),
    artifacts: config.stack.artifactsDir,
  };
}
