/**
 * `strata dlq list | show | retry | drop`: the events projections could not apply,
 * and what the operator does about them once the cause is fixed.
 */
import { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import { OperatorError } from '../shared/errors.js';
import { readDeadLetters } from '../projections/dead-letter-log.js';
import { dropDeadLetters, retryDeadLetters, type LetterOutcome } from '../projections/dead-letter-retry.js';
import type { DeadLetterEntry } from '../projections/dead-letters.js';
import { definitionsOf } from '../projections/projection-status.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { connectOperator } from './operator-connection.js';
import { tenantFilterOption } from './tenant-option.js';
import { textTable } from './text-table.js';

/** A letter as `list --json` and `show --json` print it. */
function describe(entry: DeadLetterEntry) {
  const { letter, resolution } = entry;
  return {
    id: letter.id,
    state: resolution?.resolution ?? 'open',
    projection: letter.projection,
    projectionVersion: letter.projectionVersion,
    event:
      letter.event === null
        ? null
        : { eventId: letter.event.eventId, type: letter.event.type, tenant: letter.event.tenant, aggregateType: letter.event.aggregateType, aggregateId: letter.event.aggregateId, version: letter.event.version },
    error: letter.error,
    source: letter.source,
    traceId: letter.traceId,
    failures: entry.failures,
    failedAt: letter.failedAt,
    resolvedAt: resolution?.resolvedAt ?? null,
  };
}

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

async function letters(options: { app?: string; projection?: string; tenant?: string; all?: boolean }) {
  const config = loadConfig();
  if (options.projection !== undefined) definitionsOf((await appOf(options)).app.projections, options.projection);
  const { log } = await connectOperator(config, 'strata-cli', { redis: false });
  const book = await readDeadLetters(log, config);
  return book
    .entries()
    .filter(
      (entry) =>
        (options.all === true || entry.resolution === undefined) &&
        (options.projection === undefined || entry.letter.projection === options.projection) &&
        (options.tenant === undefined || entry.letter.event?.tenant === options.tenant),
    );
}

function report(outcomes: readonly LetterOutcome[], json: boolean | undefined): number {
  if (json === true) printJson({ outcomes });
  else if (outcomes.length === 0) process.stdout.write('no open dead letters\n');
  else process.stdout.write(textTable(['ID', 'OUTCOME', 'ERROR'], outcomes.map((entry) => [entry.id, entry.outcome, entry.error ?? ''])));
  return outcomes.some((entry) => entry.outcome === 'failed') ? exitCodes.failure : exitCodes.ok;
}

export function dlqCommand(): Command {
  const dlq = new Command('dlq').description('dead-lettered events: list, inspect, retry after a fix, drop').addHelpText(
    'after',
    `
An event a projection cannot apply (its code throws, the store refuses the document)
goes to the dead-letter topic with the error and where it came from; the projection
goes on with other aggregates. The aggregate's later events wait there too, so that
nothing is applied out of order. Fix the cause, deploy, then retry: the events are
applied in order with the running code's definition and the aggregate is released.

Examples:
  strata dlq list
  strata dlq list --tenant TENANT
  strata dlq show ID
  strata dlq retry ID
  strata dlq retry --all --projection NAME
  strata dlq drop ID

Exit codes: ${String(exitCodes.ok)} ok, ${String(exitCodes.failure)} a retried event failed again (it stays open) or the stack is not reachable,
${String(exitCodes.usage)} usage (unknown letter or projection), ${String(exitCodes.conflict)} the letter was already retried or dropped.`,
  );
  addListCommand(dlq);
  addShowCommand(dlq);
  addRetryCommand(dlq);
  addDropCommand(dlq);
  return dlq;
}

function addListCommand(dlq: Command): void {
  dlq
    .command('list')
    .description('open dead letters (with --all, retried and dropped ones too)')
    .option('--projection <name>', 'only this projection')
    .addOption(tenantFilterOption("only letters of this tenant's events (default: every tenant's)"))
    .addOption(appOption())
    .option('--all', 'include resolved letters')
    .option(
      '--json',
      'print JSON: {deadLetters: [{id, state, projection, projectionVersion, event: {eventId, type, tenant, aggregateType, aggregateId, version} | null, error: {name, message}, source: {topic, partition, offset}, traceId, failures, failedAt, resolvedAt}]}',
    )
    .action(action(list));
}

async function list(options: { app?: string; projection?: string; tenant?: string; all?: boolean; json?: boolean }): Promise<number> {
  const entries = await letters(options);
  if (options.json === true) printJson({ deadLetters: entries.map(describe) });
  else if (entries.length === 0) process.stdout.write(options.all === true ? 'no dead letters\n' : 'no open dead letters\n');
  else {
    process.stdout.write(
      textTable(
        ['ID', 'STATE', 'EVENT', 'TENANT', 'AGGREGATE', 'FAILED AT', 'ERROR'],
        entries.map(({ letter, resolution }) => [
          letter.id,
          resolution?.resolution ?? 'open',
          letter.event === null ? '(undecodable)' : `${letter.event.type} v${String(letter.event.version)}`,
          letter.event?.tenant ?? '-',
          letter.event?.aggregateId ?? '-',
          letter.failedAt,
          clip(letter.error.message, 70),
        ]),
      ),
    );
  }
  return exitCodes.ok;
}

function addShowCommand(dlq: Command): void {
  dlq
    .command('show')
    .description('one dead letter in full: error, source offset, trace id, the event')
    .argument('<id>', 'the letter id, as `dlq list` prints it')
    .option('--json', 'print JSON: the fields of `list --json`, with the whole event and the undecodable record')
    .action(
      action(async (id: string, options: { json?: boolean }) => {
        const entry = (await letters({ all: true })).find((candidate) => candidate.letter.id === id);
        if (entry === undefined) throw new OperatorError(`no dead letter ${id}`, 'usage', 'strata dlq list --all shows every letter');
        const shown = { ...describe(entry), event: entry.letter.event, rawValue: entry.letter.rawValue };
        if (options.json === true) printJson(shown);
        else process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        return exitCodes.ok;
      }),
    );
}

function addRetryCommand(dlq: Command): void {
  dlq
    .command('retry')
    .description("apply dead-lettered events again with the running code's definition (after a fix)")
    .argument('[ids...]', 'letter ids; the other open letters of the same aggregates are retried with them, in order')
    .option('--all', 'every open letter')
    .option('--projection <name>', 'with --all: only this projection')
    .addOption(tenantFilterOption("with --all: only letters of this tenant's events"))
    .addOption(appOption())
    .option('--json', 'print JSON: {outcomes: [{id, outcome: retried|already-applied|failed, error?}]}')
    .action(action(retry));
}

async function retry(ids: string[], options: { app?: string; all?: boolean; projection?: string; tenant?: string; json?: boolean }): Promise<number> {
  if ((ids.length === 0) === (options.all !== true)) throw new OperatorError('name the letters to retry, or give --all', 'usage', 'strata dlq retry --help');
  const config = loadConfig();
  const { app } = await appOf(options);
  if (options.projection !== undefined) definitionsOf(app.projections, options.projection);
  const { log } = await connectOperator(config, 'strata-cli', { redis: true });
  const outcomes = await retryDeadLetters({
    log,
    config,
    definitions: app.projections,
    events: app.domain.events,
    ids: options.all === true ? 'all' : ids,
    ...(options.projection === undefined ? {} : { projection: options.projection }),
    ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
  });
  return report(outcomes, options.json);
}

function addDropCommand(dlq: Command): void {
  dlq
    .command('drop')
    .description('resolve dead letters without applying their events')
    .argument('<ids...>', 'letter ids')
    .option('--json', 'print JSON: {outcomes: [{id, outcome: dropped}]}')
    .addHelpText('after', '\nThe aggregate is released: its later events are applied without the dropped one.\nLater events already held with it stay open until retried or dropped themselves.')
    .action(
      action(async (ids: string[], options: { json?: boolean }) => {
        const config = loadConfig();
        const { log } = await connectOperator(config, 'strata-cli', { redis: false });
        return report(await dropDeadLetters({ log, config, ids }), options.json);
      }),
    );
}
