/**
 * `strata aggregate show`: an aggregate's state, folded from its events by its
 * decider, as the command processor sees it.
 */
import { Argument, Command } from 'commander';
import { defaultTenant } from '../shared/auth/principal.js';
import { loadConfig } from '../shared/config.js';
import { OperatorError } from '../shared/errors.js';
import { aggregateAt, aggregateHistory } from '../write-side/event-log.js';
import { aggregateId } from './aggregate-id.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { versionNumber } from './number-option.js';
import { connectOperator } from './operator-connection.js';
import { tenantOption } from './tenant-option.js';

export function aggregateCommand(): Command {
  const aggregate = new Command('aggregate').description('aggregates of the domain, from the event log');
  aggregate
    .command('show')
    .description("an aggregate's state folded from its events, at its latest version or an earlier one")
    .addArgument(new Argument('<id>', 'the aggregate id').argParser(aggregateId))
    .option('--version <n>', 'fold only the events up to this version', versionNumber)
    .option('--type <aggregateType>', 'the aggregate type, when the id names more than one')
    .addOption(tenantOption('the tenant whose aggregate it is'))
    .addOption(appOption())
    .option('--json', 'print JSON: {aggregateType, aggregateId, version, latestVersion, state, events: [envelope, ...]}')
    .addHelpText(
      'after',
      `
Reads the aggregate's partition of the event log from its start: a second or so per
hundred thousand events on it.

Examples:
  strata aggregate show ID
  strata aggregate show ID --version 2 --json
  strata aggregate show ID --type TYPE
  strata aggregate show ID --tenant TENANT

Exit codes: ${String(exitCodes.ok)} ok, ${String(exitCodes.failure)} the stack is not reachable, ${String(exitCodes.usage)} usage (no such aggregate, no such version).`,
    )
    .action(
      action(async (id: string, options: { app?: string; version?: number; type?: string; tenant: string; json?: boolean }) => {
        const config = loadConfig();
        const { app } = await appOf(options);
        const { log } = await connectOperator(config, 'strata-cli', { redis: false });
        const history = (await aggregateHistory(log, config, options.tenant, id)).filter((event) => options.type === undefined || event.aggregateType === options.type);
        const types = [...new Set(history.map((event) => event.aggregateType))];
        if (types.length === 0) throw new OperatorError(`no events for aggregate ${id}${options.type === undefined ? '' : ` of type ${options.type}`} in tenant ${options.tenant}`, 'usage', 'strata events tail --from-beginning --no-follow lists the log');
        if (types.length > 1) throw new OperatorError(`${id} names aggregates of several types: ${types.join(', ')}`, 'usage', 'choose one with --type');
        const view = aggregateAt(app.domain, history, options.version);
        if (options.version !== undefined && options.version > view.latestVersion) {
          throw new OperatorError(`${id} has no version ${String(options.version)}`, 'usage', `its latest version is ${String(view.latestVersion)}`);
        }
        if (options.json === true) {
          printJson(view);
        } else {
          process.stdout.write(
            `${view.aggregateType} ${view.aggregateId}${options.tenant === defaultTenant ? '' : ` of tenant ${options.tenant}`} at version ${String(view.version)}${view.version === view.latestVersion ? ' (latest)' : ` of ${String(view.latestVersion)}`}\n` +
              view.events.map((event) => `  v${String(event.version)}  ${event.timestamp}  ${event.type}\n`).join('') +
              `state:\n${JSON.stringify(view.state, null, 2).replace(/^/gm, '  ')}\n`,
          );
        }
        return exitCodes.ok;
      }),
    );
  return aggregate;
}
