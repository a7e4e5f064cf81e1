/**
 * A command-processor log of realistic size, written as the platform writes it: an
 * in-process command processor decides RegisterProduct for each product, then
 * RestockProduct round-robin over them (every 7th in turn), produced straight to the
 * commands topic in batches of 2,000 and kept at most 20,000 commands ahead of the
 * processor. Its events, snapshots and checkpoints are the processor's own.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { startCommandProcessor } from '../../write-side/command-processor/command-processor.js';
import { encodeCommand } from '../../write-side/command-record.js';
import { writeSideTopics } from '../../shared/topics.js';
import { pendingCommands } from '../../write-side/processor-status.js';
import shop from '../../examples/shop/app.js';

export interface CommandLogOptions {
  products: readonly string[];
  /** RestockProduct commands after the registrations; a multiple of 2,000. */
  restocks: number;
  onProgress?: (decided: number) => void;
}

function command(commandType: string, aggregateId: string, data: unknown) {
  const commandId = randomUUID();
  return encodeCommand({ commandId, commandType, aggregateType: 'Product', aggregateId, data, correlationId: commandId, submittedAt: new Date().toISOString() });
}

/** Commands produced and not yet decided, on all partitions. */
const pendingInAll = async (kafka: Kafka, config: Config) => [...(await pendingCommands(kafka, config)).values()].reduce((sum, count) => sum + count, 0);

export async function writeCommandLog(kafka: Kafka, config: Config, logger: Logger, options: CommandLogOptions): Promise<void> {
  const { products, restocks } = options;
  const topic = writeSideTopics(config).commands;
  const processor = await startCommandProcessor({ kafka, config, domain: shop.domain, logger });
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: products.map((sku) => command('RegisterProduct', sku, { name: sku, description: '', priceCents: 100, currency: 'EUR', tags: [] })),
    });
    for (let sent = 0; sent < restocks; sent += 2000) {
      const messages = Array.from({ length: 2000 }, (_, index) => command('RestockProduct', products[(sent + index * 7) % products.length] ?? '', { quantity: 1 }));
      await producer.send({ topic, acks: -1, messages });
      for (let pending = await pendingInAll(kafka, config); pending > 20_000; pending = await pendingInAll(kafka, config)) await sleep(200);
      options.onProgress?.(sent);
    }
    const deadline = Date.now() + 30 * 60_000;
    while ((await pendingInAll(kafka, config)) > 0) {
      if (Date.now() > deadline) throw new Error('the processor did not decide the log within 30 minutes');
      await sleep(500);
    }
  } finally {
    await producer.disconnect();
    await processor.stop();
  }
}
