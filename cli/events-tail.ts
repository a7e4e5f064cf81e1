/**
 * `strata events tail`: the event log, decoded, as it grows.
 */
import type { Command } from 'commander';
import { defaultTenant } from '../shared/auth/principal.js';
import { loadConfig } from '../shared/config.js';
import type { EventEnvelope } from '../shared/event-envelope.js';
import { tailEvents, type LoggedEvent } from '../write-side/event-log.js';
import { aggregateId } from './aggregate-id.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes } from './command-runner.js';
import { untilInterrupted } from './interruption.js';
import { connectOperator } from './operator-connection.js';
import { tenantFilterOption } from './tenant-option.js';

interface TailOptions {
  app?: string;
  tenant?: string;
  aggregate?: string;
  type?: string;
  raw?: boolean;
  fromBeginning?: boolean;
  follow: boolean;
  json?: boolean;
}

export function addTailCommand(events: Command): void {
  events
    .command('tail')
    .description('print events as they are committed, decoded; Ctrl-C stops')
    .addOption(tenantFilterOption("only this tenant's events (default: every tenant's)"))
    .option('--aggregate <id>', 'only the events of this aggregate id (in every tenant, unless --tenant names one)', aggregateId)
    .option('--type <type>', 'only events stored as this type (as `strata events schemas` lists them)')
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
  strata events tail --aggregate ID --from-beginning
  strata events tail --tenant TENANT --from-beginning --no-follow
  strata events tail --type TYPE --from-beginning --no-follow --raw --json
  strata events tail --type TYPE --from-beginning --no-follow --json

Exit codes: ${String(exitCodes.ok)} ok (also after Ctrl-C), ${String(exitCodes.failure)} the stack is not reachable, ${String(exitCodes.usage)} usage.`,
    )
    .action(action(tail));
}

async function tail(options: TailOptions): Promise<number> {
  const config = loadConfig();
  const catalog = options.raw === true ? undefined : (await appOf(options)).app.domain.events;
  const { log } = await connectOperator(config, 'strata-cli', { redis: false });
  await untilInterrupted((signal) =>
    tailEvents({
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
      signal,
    }),
  );
  return exitCodes.ok;
}

function line(entry: LoggedEvent): string {
  const where = `${String(entry.partition)}@${entry.offset}`;
  const { event } = entry;
  if (event === undefined) return `${where}  (not an event: ${entry.error ?? 'unknown'})\n`;
  const tenant = event.tenant === defaultTenant ? '' : `${event.tenant}/`;
  return `${event.timestamp}  ${where}  ${tenant}${event.aggregateType} ${event.aggregateId} v${String(event.version)}  ${event.type}  ${JSON.stringify(event.data)}\n`;
}
