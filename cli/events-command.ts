/**
 * `strata events tail`: the event log, decoded, as it grows.
 */
import { Command } from 'commander';
import { defaultTenant } from '../shared/auth/principal.js';
import { loadConfig } from '../shared/config.js';
import { tailEvents, type LoggedEvent } from '../write-side/event-log.js';
import { action, exitCodes } from './command-runner.js';
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
    .option('--aggregate <id>', 'only the events of this aggregate')
    .option('--type <type>', 'only events of this type (e.g. OrderPlaced)')
    .option('--from-beginning', 'start at the first event instead of now')
    .option('--no-follow', 'stop at the end of the log instead of waiting for new events')
    .option('--json', 'one JSON object per line: {partition, offset, event: {eventId, type, tenant, aggregateType, aggregateId, version, commandId, causationId, correlationId, timestamp, schemaVersion, data}}')
    .addHelpText(
      'after',
      `
Events are in log order within a partition; an aggregate's events share one.
Each line: timestamp, partition@offset, aggregate type (after its tenant, outside the
default one), id and version, event type, data.

Examples:
  strata events tail                                   new events from now on
  strata events tail --aggregate order-42 --from-beginning
  strata events tail --tenant acme --from-beginning --no-follow
  strata events tail --type StockReservationRejected --from-beginning --no-follow --json

Exit codes: ${String(exitCodes.ok)} ok (also after Ctrl-C), ${String(exitCodes.failure)} the stack is not reachable, ${String(exitCodes.usage)} usage.`,
    )
    .action(
      action(async (options: { tenant?: string; aggregate?: string; type?: string; fromBeginning?: boolean; follow: boolean; json?: boolean }) => {
        const config = loadConfig();
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
  return events;
}
