/**
 * `strata infra up | down | status`: the local Kafka, Elasticsearch, Redis and Zipkin.
 */
import { Argument, Command } from 'commander';
import { loadConfig, type Config } from '../shared/config.js';
import { createLogClient } from '../shared/kafka/kafkajs-client.js';
import type { TopicReplication } from '../shared/kafka/log-client.js';
import { createLogger } from '../shared/logger.js';
import { prefixTopicReplication } from '../shared/topics.js';
import { streamReporter } from '../infra/stack/reporter.js';
import { down, selectServers, serverNames, stackServers, status, up, type ServerStatus } from '../infra/stack/stack.js';
import { action, exitCodes } from './command-runner.js';
import { wholeNumber } from './number-option.js';
import { textTable } from './text-table.js';

export function printStatus(rows: readonly ServerStatus[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  process.stdout.write(
    textTable(
      ['SERVER', 'VERSION', 'ADDRESS', 'PID', 'STATE'],
      rows.map((row) => [row.server, row.version ?? '-', row.address, row.pid === null ? '-' : String(row.pid), row.state]),
    ),
  );
}

/** The topics of the configured prefix on the stack's Kafka, when a node of it runs: their replicas and in-sync replicas. */
async function stackTopics(config: Config, rows: readonly ServerStatus[]): Promise<TopicReplication[] | undefined> {
  const brokers = rows.filter((row) => row.server.startsWith('kafka') && row.state === 'running').map((row) => row.address);
  if (brokers.length === 0) return undefined;
  const log = createLogClient(
    { kafka: { ...config.kafka, brokers }, topics: config.topics },
    { clientId: 'strata-cli', logger: createLogger({ logLevel: 'silent' }, 'cli'), retries: 1, connectionTimeoutMs: 3000 },
  );
  return log.withAdmin((admin) => prefixTopicReplication(admin, config));
}

/** Per topic, its partitions' fewest replicas and fewest in-sync replicas: the copies a write can count on. */
function printTopics(topics: readonly TopicReplication[]): void {
  const fewest = (counts: number[]) => String(Math.min(...counts));
  process.stdout.write(
    '\n' +
      textTable(
        ['TOPIC', 'PARTITIONS', 'REPLICAS', 'IN-SYNC', 'MIN-IN-SYNC'],
        topics.map(({ topic, partitions, minInSync }) => [
          topic,
          String(partitions.length),
          fewest(partitions.map(({ replicas }) => replicas.length)),
          fewest(partitions.map(({ inSync }) => inSync.length)),
          String(minInSync),
        ]),
      ),
  );
}

const serversArgument = () =>
  new Argument('[servers...]', 'servers to act on; all when omitted').choices(serverNames);

export function infraCommand(): Command {
  const infra = new Command('infra')
    .description('run the local stack: Kafka, Elasticsearch, Redis, Zipkin, and Keycloak (optional)')
    .addHelpText(
      'after',
      `
Data, logs and pid files live in STRATA_STACK_DIR (default .strata/); ports and
heaps come from the STRATA_* variables listed by \`strata config\`.
With STRATA_STACK_SECURITY=on, Kafka, Redis and Elasticsearch take only TLS
connections that sign in, with a development CA and passwords the stack makes once
(docs/deployment.md, "Secured connections").

Examples:
  strata infra up                 start every server not running yet
  strata infra up redis zipkin    start only these
  strata infra up --brokers 3     Kafka as a cluster of three nodes
  strata infra up --es-nodes 2    Elasticsearch as a cluster of two nodes
  strata infra up keycloak        the local identity provider (in the stack unless STRATA_AUTH=off)
  strata infra status --json      the table as JSON
  strata infra down --purge       stop everything and delete its data`,
    );
  addUpCommand(infra);
  addDownCommand(infra);
  addStatusCommand(infra);
  return infra;
}

function addUpCommand(infra: Command): void {
  infra
    .command('up')
    .description('start the servers that are not running and wait until each passes a health check')
    .addArgument(serversArgument())
    .option('--json', 'print the status table as JSON')
    .option('--brokers <count>', 'Kafka nodes when its data is made (default 1); a cluster keeps its size until purged', wholeNumber('a whole number of brokers from 1 to 9', 9))
    .option('--es-nodes <count>', 'Elasticsearch nodes when its data is made (default 1); a cluster keeps its size until purged', wholeNumber('a whole number of nodes from 1 to 9', 9))
    .addHelpText(
      'after',
      `
The first run fetches the servers from Maven Central (and redis-server from
Debian's packages if missing); later runs use the cache and no network.
Servers already up are left alone. If one fails to start, its log tail is
printed and the servers this run started are stopped again.

--brokers 3 runs Kafka as a cluster of three nodes (kafka, kafka-2, kafka-3), each
broker and controller, node n on STRATA_KAFKA_PORT + 2(n − 1) and
STRATA_KAFKA_CONTROLLER_PORT + 2(n − 1); topics get three replicas. Later commands
find the cluster's size in its data.

--es-nodes 2 runs Elasticsearch as a cluster of two nodes (elasticsearch,
elasticsearch-2), node n on STRATA_ELASTICSEARCH_PORT + (n − 1) and
STRATA_ELASTICSEARCH_TRANSPORT_PORT + (n − 1); Strata's indices get a replica on the
other node. The services reach only the first node unless STRATA_ELASTICSEARCH_URL
lists them all (docs/deployment.md).`,
    )
    .action(
      action(async (names: string[], options: { json?: boolean; brokers?: number; esNodes?: number }) => {
        const config = loadConfig();
        const selected = names.length === 0 ? stackServers(config, options.brokers, options.esNodes) : selectServers(config, names, options.brokers, options.esNodes);
        const result = await up(config, selected, streamReporter(process.stderr));
        printStatus(result.rows, options.json === true);
        return exitCodes.ok;
      }),
    );
}

function addDownCommand(infra: Command): void {
  infra
    .command('down')
    .description('stop the servers `up` started, wait for their ports to close')
    .addArgument(serversArgument())
    .option('--purge', 'also delete their data and logs')
    .action(
      action(async (names: string[], options: { purge?: boolean }) => {
        const config = loadConfig();
        const results = await down(config, selectServers(config, names), { purge: options.purge === true }, streamReporter(process.stderr));
        process.stdout.write(textTable(['SERVER', 'RESULT'], results.map((r) => [r.server, r.outcome])));
        return exitCodes.ok;
      }),
    );
}

function addStatusCommand(infra: Command): void {
  infra
    .command('status')
    .description("show each server: version, address, pid and state; and the replicas of Strata's topics on Kafka")
    .addArgument(serversArgument())
    .option('--json', "print the tables as JSON (the topics in the kafka row's `topics`)")
    .addHelpText(
      'after',
      `
When Kafka is shown and runs, a second table lists each topic of STRATA_TOPIC_PREFIX:
its partitions, the fewest replicas and in-sync replicas of any of them, and its
min.insync.replicas.

Exit code ${exitCodes.notRunning} when any server shown is not running.`,
    )
    .action(action(showStatus));
}

/** The servers named (all when none is) and any optional one that runs, with the replicas of Strata's topics. */
async function showStatus(names: string[], options: { json?: boolean }): Promise<number> {
  const config = loadConfig();
  const shown = names.length === 0 ? stackServers(config) : selectServers(config, names);
  // An optional server not in the stack is shown when it runs (started by name).
  const extra = names.length === 0 ? (await status(config, selectServers(config, []).filter((server) => !shown.some((one) => one.name === server.name)))).filter((row) => row.state !== 'stopped') : [];
  const rows = [...(await status(config, shown)), ...extra];
  const topics = await stackTopics(config, rows);
  if (options.json === true) {
    printStatus(rows.map((row) => (row.server === 'kafka' && topics !== undefined ? { ...row, topics } : row)), true);
  } else {
    printStatus(rows, false);
    if (topics !== undefined) printTopics(topics);
  }
  return rows.every((row) => row.state === 'running') ? exitCodes.ok : exitCodes.notRunning;
}
