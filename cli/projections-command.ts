/**
 * `strata projections list | status | replay | drop`: the read models' versions,
 * their progress, blue-green rebuilds and dropping old versions.
 */
import { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import { replayClientId, replayProjection } from '../projections/projection-replay.js';
import { definitionsOf, dropVersion, projectionStatus, type ProjectionStatus } from '../projections/projection-status.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { connectOperator } from './operator-connection.js';
import { progressLine } from './progress-line.js';
import { textTable } from './text-table.js';
import { wholeNumber } from './number-option.js';

const versionNumber = wholeNumber('a version number (1, 2, ...)');

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

const formatDuration = (seconds: number | undefined) =>
  seconds === undefined || !Number.isFinite(seconds) ? '--' : seconds < 90 ? `${Math.ceil(seconds)}s` : `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;

export function projectionsCommand(): Command {
  const projections = new Command('projections').description('read models: versions, progress, blue-green replays').addHelpText(
    'after',
    `
The projections are the loaded app's (--app, or the "strata" field of package.json).

Examples:
  strata projections list                     one line per projection
  strata projections status order-search     versions, checkpoints and lag per partition
  strata projections replay order-details     rebuild into a new version, then swap it live
  strata projections drop order-details --version 1
                                              delete a version that is no longer live

Exit codes: ${String(exitCodes.ok)} ok, ${String(exitCodes.failure)} failure (stack not reachable, ...), ${String(exitCodes.usage)} usage (unknown projection),
${String(exitCodes.conflict)} refused (a replay already running, dropping the live version), ${String(exitCodes.interrupted)} replay interrupted (run it again to resume).`,
  );

  projections
    .command('list')
    .description('every projection: its live version, state, lag and storage')
    .option('--json', 'print JSON: {projections: [{name, store, live, definitions, versions: [...]}]}')
    .addOption(appOption())
    .action(
      action((options: { app?: string; json?: boolean }) => showStatus({ ...options, sampleMs: 0 }, printList)),
    );

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

  projections
    .command('replay')
    .description('rebuild a projection from offset 0 into a new version while queries read the live one; swap it live once caught up')
    .argument('<name>', 'the projection')
    .option('--definition <version>', 'build with this definition version (default: the newest defined)', versionNumber)
    .option('--json', 'print the result as JSON: {name, version, definition, previousLive, resumed, startedAt, endedAt, seconds, handedOver}')
    .addOption(appOption())
    .addHelpText(
      'after',
      `
The new version gets its own consumer group and index or key namespace; the live one
keeps serving. Caught up (on every partition past the live version's checkpoint and at
the head), the live pointer swaps atomically (Elasticsearch alias, Redis pointer) and
running projectors follow it within a second. The old version is kept until
\`strata projections drop NAME --version V\`.

Ctrl-C stops the replay where it is, and so does a kill: run it again and it resumes
from its own checkpoint.

Examples:
  strata projections replay order-search
  strata projections replay order-details --definition 2 --json`,
    )
    .action(
      action(async (name: string, options: { app?: string; definition?: number; json?: boolean }) => {
        const config = loadConfig();
        const { app } = await appOf(options);
        definitionsOf(app.projections, name);
        const { log, logger } = await connectOperator(config, replayClientId, { redis: true });
        const bar = progressLine();
        const abort = new AbortController();
        const interrupt = () => { abort.abort(); };
        process.once('SIGINT', interrupt);
        process.once('SIGTERM', interrupt);
        try {
          const result = await replayProjection({
            log,
            config,
            logger,
            definitions: app.projections,
            events: app.domain.events,
            name,
            ...(options.definition === undefined ? {} : { definition: options.definition }),
            signal: abort.signal,
            onProgress: (progress) => {
              if (progress.phase === 'catching-up') {
                const fraction = progress.total === 0n ? 1 : Number(progress.done) / Number(progress.total);
                bar.update(fraction, `${name} v${String(progress.version)}: ${progress.done.toString()}/${progress.total.toString()} events, ${Math.round(progress.eventsPerSecond).toLocaleString('en')} events/s, ETA ${formatDuration(progress.etaSeconds)}`);
              } else if (progress.phase === 'swapped') {
                bar.done(`${name} v${String(progress.version)} caught up and is now live`);
              } else {
                process.stderr.write(`a projector took ${name} v${String(progress.version)} over\n`);
              }
            },
          });
          if (result === undefined) {
            bar.done(`replay of ${name} stopped; run it again to resume from its checkpoint`);
            return exitCodes.interrupted;
          }
          if (options.json === true) {
            printJson({ ...result, startedAt: result.startedAt.toString(), endedAt: result.endedAt.toString() });
          } else {
            const rate = result.seconds > 0 ? Math.round(Number(result.endedAt - result.startedAt) / result.seconds) : 0;
            process.stdout.write(
              `${name}: v${String(result.version)} (definition v${String(result.definition)}) is live` +
                `${result.previousLive === undefined ? '' : `; v${String(result.previousLive)} is kept until \`strata projections drop ${name} --version ${String(result.previousLive)}\``}\n` +
                `${result.resumed ? 'resumed at' : 'from'} offset ${result.startedAt.toString()} to ${result.endedAt.toString()} in ${result.seconds.toFixed(1)} s (${rate.toLocaleString('en')} events/s)\n` +
                (result.handedOver ? '' : 'no projector is running to feed it: it will resume from its checkpoint when one starts\n'),
            );
          }
          return exitCodes.ok;
        } finally {
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
        }
      }),
    );

  projections
    .command('drop')
    .description('delete a stored version of a projection that is neither live nor being replayed')
    .argument('<name>', 'the projection')
    .requiredOption('--version <version>', 'the version to delete', versionNumber)
    .addOption(appOption())
    .addHelpText('after', '\nExample:\n  strata projections drop order-details --version 1')
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
  return projections;
}

