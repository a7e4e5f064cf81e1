/**
 * `strata projections list | status | replay | drop`: the read models' versions,
 * their progress, blue-green rebuilds and dropping old versions.
 */
import { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import { definitionsOf, dropVersion, projectionStatus, type ProjectionStatus } from '../projections/projection-status.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { versionNumber, wholeNumber } from './number-option.js';
import { connectOperator } from './operator-connection.js';
import { addReplayCommand } from './projections-replay.js';
import { textTable } from './text-table.js';

/** `list` and `status`: the same facts, as JSON or printed. */
async function showStatus(options: { app?: string; names?: string[]; sampleMs: number; json?: boolean }, print: (status: readonly ProjectionStatus[]) => void): Promise<number> {
  const config = loadConfig();
  const { app } = await appOf(options);
  for (const name of options.names ?? []) definitionsOf(app.projections, name);
  const { log } = await connectOperator(config, 'strata-cli', { redis: true });
  const status = await projectionStatus({ log, config, definitions: app.projections, ...(options.names === undefined ? {} : { names: options.names }), sampleMs: options.sampleMs });
  if (options.json === true) printJson({ projections: status });
  else print(status);
  return exitCodes.ok;
}

function printList(projections: readonly ProjectionStatus[]): void {
  process.stdout.write(
    textTable(
      ['PROJECTION', 'STORE', 'LIVE', 'STATE', 'LAG', 'STORAGE', 'VERSIONS', 'DEFINED'],
      projections.map((projection) => {
        const live = projection.versions.find((version) => version.live);
        return [
          projection.name,
          projection.store,
          projection.live === null ? '-' : `v${String(projection.live)}`,
          live?.state ?? 'not built',
          live?.lag ?? '-',
          live?.storage ?? '-',
          projection.versions.map((version) => `v${String(version.version)}`).join(',') || '-',
          projection.definitions.map((version) => `v${String(version)}`).join(','),
        ];
      }),
    ),
  );
}

function printStatus(projections: readonly ProjectionStatus[]): void {
  for (const projection of projections) {
    process.stdout.write(`${projection.name} (${projection.store}): ${projection.description}\n`);
    if (projection.versions.length === 0) process.stdout.write('  not built yet: a projector builds it when it starts\n');
    for (const version of projection.versions) {
      process.stdout.write(
        `  v${String(version.version)}${version.live ? ' (live)' : ''}  ${version.state}  definition v${String(version.definition)}  ` +
          `${version.storage}  lag ${version.lag}  ${String(version.eventsPerSecond)} events/s  ${String(version.consumers)} consumer(s)\n`,
      );
      const table = textTable(
        ['PARTITION', 'CHECKPOINT', 'COMMITTED', 'END', 'LAG'],
        version.partitions.map((entry) => [String(entry.partition), entry.checkpoint, entry.committed, entry.end, entry.lag]),
      );
      process.stdout.write(table.replace(/^/gm, '    '));
    }
  }
}

export function projectionsCommand(): Command {
  const projections = new Command('projections').description('read models: versions, progress, blue-green replays').addHelpText(
    'after',
    `
The projections are the loaded app's (--app, or the "strata" field of package.json).

Examples:
  strata projections list                     one line per projection
  strata projections status NAME              versions, checkpoints and lag per partition
  strata projections replay NAME              rebuild into a new version, then swap it live
  strata projections drop NAME --version 1    delete a version that is no longer live

Exit codes: ${String(exitCodes.ok)} ok, ${String(exitCodes.failure)} failure (stack not reachable, ...), ${String(exitCodes.usage)} usage (unknown projection),
${String(exitCodes.conflict)} refused (a replay already running, dropping the live version), ${String(exitCodes.interrupted)} replay interrupted (run it again to resume).`,
  );
  addListCommand(projections);
  addStatusCommand(projections);
  addReplayCommand(projections);
  addDropCommand(projections);
  return projections;
}

function addListCommand(projections: Command): void {
  projections
    .command('list')
    .description('every projection: its live version, state, lag and storage')
    .option('--json', 'print JSON: {projections: [{name, store, live, definitions, versions: [...]}]}')
    .addOption(appOption())
    .action(
      action((options: { app?: string; json?: boolean }) => showStatus({ ...options, sampleMs: 0 }, printList)),
    );
}

function addStatusCommand(projections: Command): void {
  projections
    .command('status')
    .description('each version of a projection (or of all): state, checkpoint, committed offset, end and lag per partition, events/s')
    .argument('[name]', 'a projection (default: all)')
    .option('--json', 'print JSON: {projections: [{name, store, live, definitions, versions: [{version, definition, live, state, storage, group, consumers, lag, eventsPerSecond, partitions: [{partition, checkpoint, committed, end, lag}]}]}]}')
    .option('--sample <ms>', 'measure events/s over this long', wholeNumber('milliseconds'), 1000)
    .addOption(appOption())
    .action(
      action((name: string | undefined, options: { app?: string; json?: boolean; sample: number }) =>
        showStatus({ ...options, ...(name === undefined ? {} : { names: [name] }), sampleMs: options.sample }, printStatus),
      ),
    );
}

function addDropCommand(projections: Command): void {
  projections
    .command('drop')
    .description('delete a stored version of a projection that is neither live nor being replayed')
    .argument('<name>', 'the projection')
    .requiredOption('--version <version>', 'the version to delete', versionNumber)
    .addOption(appOption())
    .addHelpText('after', '\nExample:\n  strata projections drop NAME --version 1')
    .action(
      action(async (name: string, options: { app?: string; version: number }) => {
        const config = loadConfig();
        const { app } = await appOf(options);
        definitionsOf(app.projections, name);
        const { log } = await connectOperator(config, 'strata-cli', { redis: true });
        await dropVersion({ log, config, definitions: app.projections, name, version: options.version });
        process.stdout.write(`dropped ${name} v${String(options.version)}: documents, checkpoints and consumer group\n`);
        return exitCodes.ok;
      }),
    );
}
