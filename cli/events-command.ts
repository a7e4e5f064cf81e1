/**
 * `strata events tail`: the event log, decoded, as it grows.
 */
import { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { addSample, lockFileName, lockProblems, lockSummary, samplesPerVersion, updatedLock, type EventLock } from '../app/event-lock.js';
import { defaultTenant } from '../shared/auth/principal.js';
import { OperatorError } from '../shared/errors.js';
import { loadConfig, projectDir } from '../shared/config.js';
import type { EventEnvelope } from '../shared/event-envelope.js';
import { readEventSchemas } from '../write-side/event-schema-topic.js';
import { scanEvents, tailEvents, type LoggedEvent } from '../write-side/event-log.js';
import { ensureWriteSideTopics } from '../shared/topics.js';
import { aggregateId } from './aggregate-id.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { textTable } from './text-table.js';
import { appOf, appOption } from './app-option.js';
import { connectOperator } from './operator-connection.js';
import { tenantFilterOption } from './tenant-option.js';

function line(entry: LoggedEvent): string {
  const where = `${String(entry.partition)}@${entry.offset}`;
  const { event } = entry;
  if (event === undefined) return `${where}  (not an event: ${entry.error ?? 'unknown'})\n`;
  const tenant = event.tenant === defaultTenant ? '' : `${event.tenant}/`;
  return `${event.timestamp}  ${where}  ${tenant}${event.aggregateType} ${event.aggregateId} v${String(event.version)}  ${event.type}  ${JSON.stringify(event.data)}\n`;
}

export function eventsCommand(): Command {
  const events = new Command('events').description('the event log');
  events
    .command('tail')
    .description('print events as they are committed, decoded; Ctrl-C stops')
    .addOption(tenantFilterOption("only this tenant's events (default: every tenant's)"))
    .option('--aggregate <id>', 'only the events of this aggregate id (in every tenant, unless --tenant names one)', aggregateId)
    .option('--type <type>', 'only events stored as this type (e.g. OrderPlaced)')
    .option('--raw', "show events as stored, not upcast to their types' current versions")
    .addOption(appOption())
    .option('--from-beginning', 'start at the first event instead of now')
    .option('--no-follow', 'stop at the end of the log instead of waiting for new events')
    .option('--json', 'one JSON object per line: {partition, offset, event: {eventId, type, tenant, aggregateType, aggregateId, version, commandId, causationId, correlationId, timestamp, schemaVersion, data}}')
    .addHelpText(
      'after',
      `
Events are in log order within a partition; an aggregate's events share one. Each is
shown as the app reads it today (upcast to its type's current version, the version in
schemaVersion); --raw shows the stored form.
Each line: timestamp, partition@offset, aggregate type (after its tenant, outside the
default one), id and version, event type, data.

Examples:
  strata events tail                                   new events from now on
  strata events tail --aggregate order-42 --from-beginning
  strata events tail --tenant acme --from-beginning --no-follow
  strata events tail --type ProductRegistered --from-beginning --no-follow --raw --json
  strata events tail --type StockReservationRejected --from-beginning --no-follow --json

Exit codes: ${String(exitCodes.ok)} ok (also after Ctrl-C), ${String(exitCodes.failure)} the stack is not reachable, ${String(exitCodes.usage)} usage.`,
    )
    .action(
      action(async (options: { app?: string; tenant?: string; aggregate?: string; type?: string; raw?: boolean; fromBeginning?: boolean; follow: boolean; json?: boolean }) => {
        const config = loadConfig();
        const catalog = options.raw === true ? undefined : (await appOf(options)).app.domain.events;
        const { log } = await connectOperator(config, 'strata-cli', { redis: false });
        const abort = new AbortController();
        const stop = () => { abort.abort(); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await tailEvents({
            log,
            config,
            fromBeginning: options.fromBeginning === true,
            follow: options.follow,
            ...(catalog === undefined ? {} : { upcast: (event: EventEnvelope) => catalog.upcast(event) }),
            filter: { ...(options.tenant === undefined ? {} : { tenant: options.tenant }), ...(options.aggregate === undefined ? {} : { aggregateId: options.aggregate }), ...(options.type === undefined ? {} : { type: options.type }) },
            onEvent: (entry) => {
              process.stdout.write(options.json === true ? `${JSON.stringify(entry)}\n` : line(entry));
            },
            onReady: () => {
              if (options.follow) process.stderr.write('following the event log (Ctrl-C to stop)\n');
            },
            signal: abort.signal,
          });
          return exitCodes.ok;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    );
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
      action(async (options: { app?: string; lock?: string; write?: boolean; json?: boolean }) => {
        const config = loadConfig();
        if (options.write !== true) {
          const { log } = await connectOperator(config, 'strata-cli', { redis: false });
          await ensureWriteSideTopics(log, config);
          const schemas = await readEventSchemas(log, config);
          if (options.json === true) printJson({ schemas });
          else if (schemas.length === 0) process.stdout.write('no event schemas published yet: a command processor publishes its app\'s at start\n');
          else process.stdout.write(textTable(['AGGREGATE', 'EVENT TYPE', 'VERSION', 'REPLACED WITH'], schemas.map((entry) => [entry.aggregateType, entry.type, `v${String(entry.version)}`, entry.replacedWith ?? ''])));
          return exitCodes.ok;
        }
        const { app } = await appOf(options);
        const file = lockFileOf(options.lock);
        const lock = updatedLock(app.domain, readLock(file) ?? { aggregates: {} });
        let code: number = exitCodes.ok;
        try {
          const { log } = await connectOperator(config, 'strata-cli', { redis: false });
          await scanEvents(log, config, (event) => addSample(lock, event));
        } catch (error) {
          process.stderr.write(`the log could not be read for sample events (${error instanceof Error ? error.message : String(error)}); writing the schemas without new samples\n`);
          code = exitCodes.failure;
        }
        writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
        const { types, versions, samples } = lockSummary(lock);
        process.stderr.write(`wrote ${file}: ${String(types)} event types, ${String(versions)} versions, ${String(samples)} sample events\n`);
        if (options.json === true) printJson(lock);
        else {
          const rows = Object.entries(lock.aggregates).flatMap(([aggregate, byType]) =>
            Object.entries(byType).map(([type, entry]) => [aggregate, type, entry.versions.map((version) => `v${String(version.version)}`).join(' '), String(entry.versions.reduce((sum, version) => sum + version.samples.length, 0)), entry.replacedWith ?? '']),
          );
          process.stdout.write(textTable(['AGGREGATE', 'EVENT TYPE', 'VERSIONS', 'SAMPLES', 'REPLACED WITH'], rows));
        }
        return code;
      }),
    );

  events
    .command('check')
    .description("fail when the app's event definitions cannot read every version the lock file lists")
    .option('--lock <file>', `the lock file (default: ${lockFileName} beside the project's package.json)`)
    .addOption(appOption())
    .addHelpText(
      'after',
      `
For each event type and version in the lock file: the app still declares it, its schema is
unchanged (a change needs a new version), every version after the first has an upcaster,
and each recorded sample, upcast to today's version, matches today's schema. Each problem
names the aggregate, the type, the version and the field. Run it in CI.

Exit codes: ${String(exitCodes.ok)} every version can be read, ${String(exitCodes.failure)} some cannot (listed), ${String(exitCodes.usage)} usage (no lock file: strata events schemas --write).`,
    )
    .action(
      action(async (options: { app?: string; lock?: string }) => {
        const { app } = await appOf(options);
        const file = lockFileOf(options.lock);
        const lock = readLock(file);
        if (lock === undefined) throw new OperatorError(`no lock file at ${file}`, 'usage', 'strata events schemas --write makes it');
        const problems = lockProblems(app.domain, lock);
        const { types, versions, samples } = lockSummary(lock);
        const checked = `${String(types)} event types, ${String(versions)} versions, ${String(samples)} sample events in ${file}`;
        if (problems.length === 0) {
          process.stdout.write(`checked ${checked}: the app reads every one\n`);
          return exitCodes.ok;
        }
        process.stdout.write(`checked ${checked}: ${String(problems.length)} cannot be read\n${problems.map((problem) => `  ${problem}\n`).join('')}`);
        return exitCodes.failure;
      }),
    );
  return events;
}

/** The lock file: the one named, or the project's. */
const lockFileOf = (named: string | undefined) => (named === undefined ? join(projectDir(), lockFileName) : resolve(named));

function readLock(file: string): EventLock | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EventLock;
  } catch (error) {
    throw new OperatorError(`${file} is not valid JSON: ${(error as Error).message}`, 'usage', 'restore it from version control');
  }
}
