/**
 * `strata projections replay`: a blue-green rebuild of a projection, with its progress on
 * one line, swapped live once caught up.
 */
import type { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import { replayClientId, replayProjection, type ReplayProgress, type ReplayResult } from '../projections/projection-replay.js';
import { definitionsOf } from '../projections/projection-status.js';
import { appOf, appOption } from './app-option.js';
import { action, exitCodes, printJson } from './command-runner.js';
import { untilInterrupted } from './interruption.js';
import { versionNumber } from './number-option.js';
import { connectOperator } from './operator-connection.js';
import { progressLine, type ProgressLine } from './progress-line.js';

export function addReplayCommand(projections: Command): void {
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
  strata projections replay NAME
  strata projections replay NAME --definition 2 --json`,
    )
    .action(action(replay));
}

async function replay(name: string, options: { app?: string; definition?: number; json?: boolean }): Promise<number> {
  const config = loadConfig();
  const { app } = await appOf(options);
  definitionsOf(app.projections, name);
  const { log, logger } = await connectOperator(config, replayClientId, { redis: true });
  const bar = progressLine();
  const result = await untilInterrupted((signal) =>
    replayProjection({
      log,
      config,
      logger,
      definitions: app.projections,
      events: app.domain.events,
      name,
      ...(options.definition === undefined ? {} : { definition: options.definition }),
      signal,
      onProgress: (progress) => { showProgress(name, bar, progress); },
    }),
  );
  if (result === undefined) {
    bar.done(`replay of ${name} stopped; run it again to resume from its checkpoint`);
    return exitCodes.interrupted;
  }
  if (options.json === true) printJson({ ...result, startedAt: result.startedAt.toString(), endedAt: result.endedAt.toString() });
  else printResult(name, result);
  return exitCodes.ok;
}

function showProgress(name: string, bar: ProgressLine, progress: ReplayProgress): void {
  if (progress.phase === 'catching-up') {
    const fraction = progress.total === 0n ? 1 : Number(progress.done) / Number(progress.total);
    bar.update(fraction, `${name} v${String(progress.version)}: ${progress.done.toString()}/${progress.total.toString()} events, ${Math.round(progress.eventsPerSecond).toLocaleString('en')} events/s, ETA ${formatDuration(progress.etaSeconds)}`);
  } else if (progress.phase === 'swapped') {
    bar.done(`${name} v${String(progress.version)} caught up and is now live`);
  } else {
    process.stderr.write(`a projector took ${name} v${String(progress.version)} over\n`);
  }
}

const formatDuration = (seconds: number | undefined) =>
  seconds === undefined || !Number.isFinite(seconds) ? '--' : seconds < 90 ? `${Math.ceil(seconds)}s` : `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;

function printResult(name: string, result: ReplayResult): void {
  const rate = result.seconds > 0 ? Math.round(Number(result.endedAt - result.startedAt) / result.seconds) : 0;
  process.stdout.write(
    `${name}: v${String(result.version)} (definition v${String(result.definition)}) is live` +
      `${result.previousLive === undefined ? '' : `; v${String(result.previousLive)} is kept until \`strata projections drop ${name} --version ${String(result.previousLive)}\``}\n` +
      `${result.resumed ? 'resumed at' : 'from'} offset ${result.startedAt.toString()} to ${result.endedAt.toString()} in ${result.seconds.toFixed(1)} s (${rate.toLocaleString('en')} events/s)\n` +
      (result.handedOver ? '' : 'no projector is running to feed it: it will resume from its checkpoint when one starts\n'),
  );
}
