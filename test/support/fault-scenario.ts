/**
 * The write side's fault-injection scenario, against the real broker: several
 * command-processor OS processes of the neutral test domain (test/apps/counter-app.ts)
 * under concurrent load of Increment commands through the HTTP gateway,
 * killed with SIGKILL mid-transaction, one paused with SIGSTOP past its session
 * timeout and resumed, clients retrying with the same Idempotency-Key. Then an
 * independent check of the event log.
 *
 * Used by test/integration/write-side-faults.test.ts (one seed, in CI) and by
 * test/fault-soak.ts (several seeds, longer, outside CI). Timing and choices vary
 * with the seed; the assertions do not.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../../shared/config.js';
import { decodeEvent, type EventEnvelope } from '../../shared/event-envelope.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import { createLogger } from '../../shared/logger.js';
import { startGateway } from '../../write-side/gateway/gateway.js';
import { ackClock } from './availability.js';
import { spawnProcessor, type ProcessorProcess } from '../../bench/processor-process.js';
import { seededRandom as random } from '../../shared/seeded-random.js';
import { deleteWriteSideTopics, ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import counterApp from '../apps/counter-app.js';

export interface ScenarioOptions {
  seed: number;
  processors: number;
  partitions: number;
  aggregates: number;
  clients: number;
  loadSeconds: number;
  log: (line: string) => void;
}

export interface ScenarioResult {
  /** Acknowledged command id → the version the gateway answered with. */
  acknowledged: Map<string, { aggregateId: string; version: number }>;
  /** Retries that got another answer than the first one. */
  retryMismatches: string[];
  committed: EventEnvelope[];
  /** Records in the events topic, aborted ones included. */
  uncommittedCount: number;
  processorLogs: string[];
  faults: string[];
  /** The longest stretch of the load with no command acknowledged (ms). */
  longestSilenceMs: number;
  /** The consumer-group session timeout the processors ran with (ms). */
  sessionTimeoutMs: number;
}

const insideTransaction = 'test hook: transaction open';

/** Resolves at the processor's next "transaction open" line, so a signal lands mid-transaction. */
function nextOpenTransaction(processor: ProcessorProcess, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { done(false); }, timeoutMs);
    const onData = (chunk: Buffer) => { if (chunk.toString('utf8').includes(insideTransaction)) done(true); };
    const done = (seen: boolean) => {
      clearTimeout(timer);
      processor.child.stdout?.off('data', onData);
      resolve(seen);
    };
    processor.child.stdout?.on('data', onData);
  });
}

function startProcessor(env: NodeJS.ProcessEnv, logs: string[][]): ProcessorProcess {
  const processor = spawnProcessor(env);
  logs.push(processor.log);
  return processor;
}

async function readEvents(config: Config, readUncommitted: boolean, onEvent: (event: EventEnvelope) => void): Promise<void> {
  const log = createLogClient(config, { clientId: 'strata-fault-checker', logger: createLogger({ logLevel: 'silent' }, 'checker') });
  await log.readToEnd({
    topic: writeSideTopics(config).events,
    partitions: Array.from({ length: config.topics.partitions }, (_, partition) => ({ partition, from: 0n })),
    readUncommitted,
    onRecords: (_, records) => { for (const record of records) onEvent(decodeEvent(record)); },
  });
}

export async function runFaultScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const next = random(options.seed);
  const prefix = `fault-${options.seed}-${Date.now().toString(36)}`;
  const sessionTimeoutMs = 6000;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STRATA_TOPIC_PREFIX: prefix,
    STRATA_PARTITIONS: String(options.partitions),
    STRATA_SESSION_TIMEOUT_MS: String(sessionTimeoutMs),
    STRATA_TRANSACTION_TIMEOUT_MS: '20000',
    STRATA_CHECKPOINT_EVERY: '200',
    // Most of a processor's time is spent between send and commit: a kill lands mid-transaction.
    STRATA_TEST_PAUSE_BEFORE_COMMIT_MS: '100',
    STRATA_COMMAND_TIMEOUT_MS: '3000',
    STRATA_LOG_LEVEL: 'info',
    // Failures of the write side, not access control (auth.test.ts): no tokens, and so a
    // development platform (`--no-stack` alone would mean production, which refuses that).
    STRATA_AUTH: 'off',
    STRATA_ENV: 'development',
  };
  const config = loadConfig(env);
  const logger = createLogger({ logLevel: 'silent' }, 'fault-test');
  const log = createLogClient(config, { clientId: 'strata-fault-test', logger });
  await ensureWriteSideTopics(log, config);

  const logs: string[][] = [];
  const processors = Array.from({ length: options.processors }, () => startProcessor(env, logs));
  const gateway = await startGateway({ log, config, domain: counterApp.domain, logger, port: 0, grpcPort: 0 });
  const faults: string[] = [];
  const acknowledged = new Map<string, { aggregateId: string; version: number }>();
  const retryMismatches: string[] = [];
  const acks = ackClock();
  let loadStarts = 0;
  let loadEnds = 0;

  try {
    const post = async (type: string, key: string, body: unknown) => {
      const response = await fetch(`${gateway.url}/commands/${type}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, body: (await response.json()) as { version?: number } };
    };
    /** Posts until the command has an outcome (a real client's retry loop, same key). */
    const settle = async (type: string, key: string, body: unknown, deadline: number) => {
      while (Date.now() < deadline) {
        try {
          const answer = await post(type, key, body);
          if (answer.status !== 202 && answer.status < 500) return answer;
        } catch {
          // The gateway timed out on us: retry with the same key.
        }
        await sleep(100);
      }
      return undefined;
    };

    // Each counter's first Increment (labelled with its id) creates it before the load
    // starts, which also waits for the processors to serve every partition.
    const counters = Array.from({ length: options.aggregates }, (_, i) => `hot-${i}`);
    const setupDeadline = Date.now() + 120_000;
    for (const counter of counters) {
      const answer = await settle('Increment', `${prefix}-create-${counter}`, { aggregateId: counter, data: { by: 1, label: counter } }, setupDeadline);
      if (answer?.status !== 200) throw new Error(`creating ${counter} failed: ${JSON.stringify(answer)}`);
    }
    options.log(`created ${counters.length} counters; load starts`);

    loadStarts = Date.now();
    loadEnds = loadStarts + options.loadSeconds * 1000;
    const clients = Array.from({ length: options.clients }, async (_, client) => {
      for (let n = 0; Date.now() < loadEnds; n++) {
        const counter = counters[Math.floor(next() * counters.length)] ?? 'hot-0';
        const key = `${prefix}-c${client}-${n}`;
        const body = { aggregateId: counter, data: { by: 1 } };
        const answer = await settle('Increment', key, body, loadEnds + 60_000);
        if (answer?.status !== 200 || answer.body.version === undefined) continue;
        acks.ack();
        acknowledged.set(key, { aggregateId: counter, version: answer.body.version });
        if (next() < 0.2) {
          const again = await settle('Increment', key, body, loadEnds + 60_000);
          if (again?.body.version !== answer.body.version) retryMismatches.push(`${key}: ${answer.body.version} then ${JSON.stringify(again)}`);
        }
      }
    });

    /** A processor that owns a partition now (by its latest assignment log line), so the fault hits an owner. */
    const pickOwner = (except: number[] = []): number => {
      const owners = processors.flatMap(({ log }, index) => {
        // Whole JSON lines only: the last chunk may end mid-line.
        const assignments = log
          .join('')
          .split('\n')
          .filter((line) => line.includes('command partitions assigned') && line.endsWith('}'));
        const latest = assignments[assignments.length - 1];
        const partitions = latest === undefined ? [] : ((JSON.parse(latest) as { partitions?: number[] }).partitions ?? []);
        return partitions.length > 0 && !except.includes(index) ? [index] : [];
      });
      if (owners.length === 0) throw new Error('no processor owns a partition');
      return owners[Math.floor(next() * owners.length)] ?? 0;
    };

    /** Sends the signal while the processor has a transaction open (or, failing that within 5 s, anyway). */
    const strike = async (index: number, signal: NodeJS.Signals) => {
      const processor = processors[index];
      if (processor === undefined) return;
      const midTransaction = await nextOpenTransaction(processor, 5000);
      processor.child.kill(signal);
      faults.push(`${signal} processor ${index}${midTransaction ? ' mid-transaction' : ''}`);
    };

    const faultPlan = (async () => {
      await sleep(3000 + next() * 2000);
      const killed = pickOwner();
      await strike(killed, 'SIGKILL');
      await sleep(1000);
      processors[killed] = startProcessor(env, logs);

      await sleep(4000 + next() * 2000);
      const paused = pickOwner([killed]);
      await strike(paused, 'SIGSTOP');
      await sleep(sessionTimeoutMs + 4000);
      processors[paused]?.child.kill('SIGCONT');
      faults.push(`SIGCONT processor ${paused} after ${sessionTimeoutMs + 4000} ms`);

      await sleep(4000 + next() * 2000);
      const killedAgain = pickOwner([paused]);
      await strike(killedAgain, 'SIGKILL');
      await sleep(1000);
      processors[killedAgain] = startProcessor(env, logs);
    })();

    await Promise.all([...clients, faultPlan]);
    options.log(`load done: ${acknowledged.size} acknowledged; faults: ${faults.join(', ')}`);
  } finally {
    await gateway.stop();
    for (const { child } of processors) child.kill('SIGTERM');
    await Promise.all(
      processors
        .filter(({ child }) => child.exitCode === null && child.signalCode === null)
        .map(({ child }) => new Promise((resolve) => child.once('exit', resolve))),
    );
  }

  const committed: EventEnvelope[] = [];
  await readEvents(config, false, (event) => committed.push(event));
  let uncommittedCount = 0;
  await readEvents(config, true, () => { uncommittedCount += 1; });
  await deleteWriteSideTopics(log, config);
  return {
    acknowledged,
    retryMismatches,
    committed,
    uncommittedCount,
    processorLogs: logs.map((log) => log.join('')),
    faults,
    longestSilenceMs: acks.longestSilenceMs(loadStarts, loadEnds),
    sessionTimeoutMs,
  };
}
