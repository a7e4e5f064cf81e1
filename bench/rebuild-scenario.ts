/**
 * `npm run bench -- rebuild`: how long command processors take to come back on a
 * log of a given size. For each size: a log written through an in-process processor
 * (the platform's neutral test app: 1,000 counters, Increment round-robin, the processor's own snapshots and
 * checkpoints), then `strata start --role processor` started `rounds` times on it as
 * an operator restarts it, each timed from the process's start to every partition
 * rebuilt (its own log lines: seconds and events replayed per partition). Beside it,
 * in the same run, the part's own limit: a raw read of the same offsets (snapshots
 * from the start, events from each checkpoint) with nothing decoded or folded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../shared/logger.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import { writeCommandLog } from './command-log.js';
import { spawnProcessor } from './processor-process.js';
import { writeSideTopics } from '../shared/topics.js';
import { freshBench, stopProcess } from './bench-processes.js';

export interface RebuildOptions {
  events: number;
  rounds: number;
  progress: (line: string) => void;
}

interface PartitionRebuild {
  partition: number;
  checkpoint: string;
  replayed: number;
  seconds: number;
  snapshotSeconds: number;
  replaySeconds: number;
  eventsPerSecond: number;
}

const partitions = 4;
const counters = Array.from({ length: 1000 }, (_, index) => `counter-${index}`);

export async function runRebuildScenario(options: RebuildOptions) {
  const bench = await freshBench('rebuild', partitions, { STRATA_LOG_LEVEL: 'info' });
  const { log, config } = bench;
  const topics = writeSideTopics(config);
  const increments = Math.max(2000, Math.round((options.events - counters.length) / 2000) * 2000);
  const writeStarted = Date.now();
  await writeCommandLog(log, config, createLogger({ logLevel: 'silent' }, 'bench'), {
    counters,
    increments,
    onProgress: (decided) => { if (decided % 100_000 === 0) options.progress(`${String(decided)} of ${String(increments)} commands decided`); },
  });
  const writeSeconds = (Date.now() - writeStarted) / 1000;
  const ends = await readEndOffsets(log, topics.events);
  options.progress(`log written: ${ends.join(' / ')} events offsets in ${writeSeconds.toFixed(0)} s; restarting`);

  const restarts = [];
  for (let round = 0; round < options.rounds; round++) {
    const started = Date.now();
    const processor = spawnProcessor(bench.env);
    while (processor.lines('partition state rebuilt').length < partitions) {
      if (Date.now() - started > 300_000) throw new Error('the processor did not rebuild within 5 minutes');
      await sleep(20);
    }
    const lines = processor.lines('partition state rebuilt');
    const lastRebuilt = Math.max(...lines.map((line) => Number(line.time)));
    const perPartition: PartitionRebuild[] = lines
      .map((line) => ({
        partition: Number(line.partition),
        checkpoint: String(line.checkpoint),
        replayed: Number(line.replayed),
        seconds: Number(line.seconds),
        snapshotSeconds: Number(line.snapshotSeconds),
        replaySeconds: Number(line.replaySeconds),
        eventsPerSecond: Number(line.eventsPerSecond),
      }))
      .sort((a, b) => a.partition - b.partition);
    await stopProcess(processor.child);
    restarts.push({ secondsToAllRebuilt: (lastRebuilt - started) / 1000, partitions: perPartition });
    options.progress(`restart ${String(round + 1)}: every partition rebuilt ${((lastRebuilt - started) / 1000).toFixed(2)} s after the process started`);
  }

  // The part's limit, same offsets: what the rebuild reads, with nothing decoded.
  const checkpoints = restarts[0]?.partitions ?? [];
  const rawStarted = Date.now();
  let records = 0;
  const count = (_: number, messages: readonly unknown[]) => { records += messages.length; };
  const all = Array.from({ length: partitions }, (_, partition) => partition);
  await Promise.all(
    all.map(async (partition) => {
      await log.readToEnd({ topic: topics.snapshots, partitions: [{ partition, from: 0n }], onRecords: count });
      const from = BigInt(checkpoints.find((entry) => entry.partition === partition)?.checkpoint ?? '0');
      await log.readToEnd({ topic: topics.events, partitions: [{ partition, from }], onRecords: count });
    }),
  );
  const rawSeconds = (Date.now() - rawStarted) / 1000;
  return {
    events: ends.reduce((sum, end) => sum + end, 0),
    eventsOffsets: ends,
    writeSeconds,
    restarts,
    rawReadOfTheSameOffsets: { seconds: rawSeconds, records },
  };
}

function readEndOffsets(log: LogClient, topic: string): Promise<number[]> {
  return log.withAdmin(async (admin) =>
    (await admin.offsets(topic)).map(({ end }) => Number(end)),
  );
}
