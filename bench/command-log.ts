/**
 * A command-processor log of realistic size, written as the platform writes it: an
 * in-process command processor of the neutral test domain (test/apps/counter-app.ts)
 * decides a first Increment for each counter (labelled with its id, which creates
 * it), then Increment {by: 1} round-robin over them (every 7th in turn), produced
 * straight to the commands topic in batches of 2,000 and kept at most 20,000 commands
 * ahead of the processor. Its events, snapshots and checkpoints are the processor's
 * own. Every command yields one event: the log holds counters + increments events.
 * The rebuild scenario (rebuild-scenario.ts) writes its logs with it, and the
 * processor-restart test its own.
 */
import { defaultTenant } from '../shared/auth/principal.js';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../shared/config.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import type { Logger } from '../shared/logger.js';
import { startCommandProcessor } from '../write-side/command-processor/command-processor.js';
import { encodeCommand } from '../write-side/command-record.js';
import { writeSideTopics } from '../shared/topics.js';
import { pendingCommands } from '../write-side/processor-status.js';
import counterApp, { counters as counterAggregate } from '../test/apps/counter-app.js';

interface Progress {
  onProgress?: (decided: number) => void;
}

export type CommandLogOptions = Progress & {
  /** The counters' ids; each gets a first Increment that creates it. */
  counters: readonly string[];
  /** Increment commands after the first ones; a multiple of 2,000. */
  increments: number;
};

function command(commandType: string, aggregateId: string, data: unknown) {
  const commandId = randomUUID();
  return encodeCommand({ commandId, commandType, tenant: defaultTenant, aggregateType: counterAggregate.type, aggregateId, data, correlationId: commandId, submittedAt: new Date().toISOString() });
}

/** Commands produced and not yet decided, on all partitions. */
const pendingInAll = async (log: LogClient, config: Config) => [...(await pendingCommands(log, config)).values()].reduce((sum, count) => sum + count, 0);

export async function writeCommandLog(log: LogClient, config: Config, logger: Logger, options: CommandLogOptions): Promise<void> {
  const { counters, increments } = options;
  const topic = writeSideTopics(config).commands;
  const processor = await startCommandProcessor({ log, config, domain: counterApp.domain, logger });
  const producer = await log.producer();
  try {
    await producer.send(topic, counters.map((id) => command('Increment', id, { by: 1, label: id })));
    for (let sent = 0; sent < increments; sent += 2000) {
      const messages = Array.from({ length: 2000 }, (_, index) => command('Increment', counters[(sent + index * 7) % counters.length] ?? '', { by: 1 }));
      await producer.send(topic, messages);
      for (let pending = await pendingInAll(log, config); pending > 20_000; pending = await pendingInAll(log, config)) await sleep(200);
      options.onProgress?.(sent);
    }
    const deadline = Date.now() + 30 * 60_000;
    while ((await pendingInAll(log, config)) > 0) {
      if (Date.now() > deadline) throw new Error('the processor did not decide the log within 30 minutes');
      await sleep(500);
    }
  } finally {
    await producer.stop();
    await processor.stop();
  }
}
