/**
 * `strata events schemas`: the event schemas command processors published to the log,
 * and with --write, the app's own record of them in its lock file.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { addSample, lockFileName, lockSummary, samplesPerVersion, updatedLock, type EventLock } from '../app/event-lock.js';
import { loadConfig, type Config } from '../shared/config.js';
import { ensureWriteSideTopics } from '../shared/topics.js';
import { scanEvents } from '../write-side/event-log.js';
import { readEventSchemas } from '../write-side/event-schema-topic.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { lockFileOf, readLock } from './event-lock-file.js';
import { connectOperator } from './operator-connection.js';
import { textTable } from './text-table.js';

interface SchemasOptions {
  app?: string;
  lock?: string;
  write?: boolean;
  json?: boolean;
}

export function addSchemasCommand(events: Command): void {
  events
    .command('schemas')
    .description("the event schemas of the log (every version a command processor published); --write records the app's in the lock file")
    .option('--write', `add what the app declares now to the lock file (${lockFileName}), with sample events from the log`)
    .option('--lock <file>', `with --write: the lock file (default: ${lockFileName} beside the project's package.json)`)
    .addOption(appOption())
    .option('--json', 'print JSON: {schemas: [{aggregateType, type, version, schema, replacedWith?}]}; with --write, the lock as written')
    .addHelpText(
      'after',
      `
Each command processor publishes, at start, the JSON schema of every version of every event
type its app declares to the compacted topic <prefix>.event-schemas: what this prints, for
operators and for consumers of the log outside Strata.

--write keeps the app's own record in its repository: the lock file holds every (aggregate,
event type, version) the app ever declared, its schema and up to ${String(samplesPerVersion)} sample events' data
per version, read from the log. It never removes or changes what the file holds. Commit it:
\`strata events check\` fails when the app's definitions can no longer read what it lists.

Examples:
  strata events schemas
  strata events schemas --json
  strata events schemas --write

Exit codes: ${String(exitCodes.ok)} ok, ${String(exitCodes.failure)} the log could not be read (with --write: the lock is written without new samples), ${String(exitCodes.usage)} usage.`,
    )
    .action(
      action(async (options: SchemasOptions) => {
        const config = loadConfig();
        return options.write === true ? writeLock(config, options) : printPublishedSchemas(config, options.json === true);
      }),
    );
}

/** The schemas on the log's schema topic. */
async function printPublishedSchemas(config: Config, json: boolean): Promise<number> {
  const { log } = await connectOperator(config, 'strata-cli', { redis: false });
  await ensureWriteSideTopics(log, config);
  const schemas = await readEventSchemas(log, config);
  if (json) printJson({ schemas });
  else if (schemas.length === 0) process.stdout.write('no event schemas published yet: a command processor publishes its app\'s at start\n');
  else process.stdout.write(textTable(['AGGREGATE', 'EVENT TYPE', 'VERSION', 'REPLACED WITH'], schemas.map((entry) => [entry.aggregateType, entry.type, `v${String(entry.version)}`, entry.replacedWith ?? ''])));
  return exitCodes.ok;
}

/** Adds the app's schemas and samples from the log to the lock file; the log unreadable, the schemas alone (and a failure). */
async function writeLock(config: Config, options: SchemasOptions): Promise<number> {
  const { app } = await appOf(options);
  const file = lockFileOf(options.lock);
  const lock = updatedLock(app.domain, readLock(file) ?? { aggregates: {} });
  const code = await addLogSamples(config, lock);
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  const { types, versions, samples } = lockSummary(lock);
  process.stderr.write(`wrote ${file}: ${String(types)} event types, ${String(versions)} versions, ${String(samples)} sample events\n`);
  if (options.json === true) printJson(lock);
  else printLock(lock);
  return code;
}

async function addLogSamples(config: Config, lock: EventLock): Promise<number> {
  try {
    const { log } = await connectOperator(config, 'strata-cli', { redis: false });
    await scanEvents(log, config, (event) => addSample(lock, event));
    return exitCodes.ok;
  } catch (error) {
    process.stderr.write(`the log could not be read for sample events (${error instanceof Error ? error.message : String(error)}); writing the schemas without new samples\n`);
    return exitCodes.failure;
  }
}

function printLock(lock: EventLock): void {
  const rows = Object.entries(lock.aggregates).flatMap(([aggregate, byType]) =>
    Object.entries(byType).map(([type, entry]) => [aggregate, type, entry.versions.map((version) => `v${String(version.version)}`).join(' '), String(entry.versions.reduce((sum, version) => sum + version.samples.length, 0)), entry.replacedWith ?? '']),
  );
  process.stdout.write(textTable(['AGGREGATE', 'EVENT TYPE', 'VERSIONS', 'SAMPLES', 'REPLACED WITH'], rows));
}
