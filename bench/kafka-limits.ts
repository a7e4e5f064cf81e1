/**
 * The broker's own limit, measured in the same run as Strata's figures: Kafka's
 * `EndToEndLatency` tool (from the stack's Kafka classpath) produces one record at a
 * time with acks=all and waits to consume it, on a topic of its own.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureArtifacts } from '../infra/stack/artifacts.js';
import { findJava } from '../infra/stack/prerequisites.js';
import type { Config } from '../shared/config.js';
import type { LogClient } from '../shared/kafka/log-client.js';

export interface KafkaEndToEnd {
  messages: number;
  bytes: number;
  avgMs: number;
  p50: number;
  p99: number;
  p999: number;
}

export async function kafkaEndToEndLatency(log: LogClient, config: Config, messages = 5000, bytes = 200): Promise<KafkaEndToEnd> {
  const topic = `${config.topics.prefix}.end-to-end-latency`;
  await log.withAdmin((admin) => admin.createMissingTopics([{ topic, partitions: 1 }]));
  const { kafkaLibs } = await ensureArtifacts(config.stack.artifactsDir, ['kafka'], { step: () => undefined, detail: () => undefined });
  const run = spawnSync(
    findJava().bin,
    ['-Xmx256m', '-cp', join(kafkaLibs, '*'), 'org.apache.kafka.tools.EndToEndLatency', config.kafka.brokers.join(','), topic, String(messages), 'all', String(bytes)],
    { encoding: 'utf8', timeout: 300_000 },
  );
  await log.withAdmin((admin) => admin.deleteTopics([topic])).catch(() => undefined);
  const output = `${run.stdout}${run.stderr}`;
  const average = /Avg latency: ([\d.]+) ms/.exec(output);
  const percentiles = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(output);
  if (run.status !== 0 || average === null || percentiles === null) throw new Error(`EndToEndLatency failed:\n${output.slice(-2000)}`);
  return {
    messages,
    bytes,
    avgMs: Number(average[1]),
    p50: Number(percentiles[1]),
    p99: Number(percentiles[2]),
    p999: Number(percentiles[3]),
  };
}
