/**
 * The saga runtime (`strata start --role saga`): feeds a saga the events of the log
 * (a consumer group of its own, read_committed) and its due deadlines, keeps each
 * instance in the saga store, and sends the commands through the write side.
 *
 * Per input: load the instance; if it already handled this input (a redelivery, a
 * restart), only make sure its commands went out; else react, and save the new
 * state, the input's id, the commands (an outbox) and the deadline changes in one
 * compare-and-set (a conflict: load and react again). Then send the outbox, with
 * command ids derived from the input, and take what was sent off it. An event's
 * offset is committed only after all that (once a second at most: a redelivered input
 * finds itself handled), so a crash anywhere sends, at worst, the same commands again,
 * which the write side answers with their first outcome.
 *
 * Instances are kept per tenant (`<tenant>/<instance>` in the store: two tenants'
 * order o-1 are two instances), and a saga's commands act for the tenant of the
 * instance they come from: the saga's service principal may act for any.
 *
 * A group created for the first time starts at the first event written since the
 * platform that runs it started (`STRATA_SAGA_START_AT`: `strata start` passes its
 * own start time to the processes it starts), pinned at once: a saga acts on what
 * happens once it is deployed, also on a command accepted while its process was still
 * starting, and never on history (old orders settled long ago).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { scoped, unscoped } from '../../shared/auth/tenants.js';
import type { Config } from '../../shared/config.js';
import type { EventCatalog } from '../../shared/event-schemas.js';
import { decodeEvent, eventHeaders, headerValue } from '../../shared/event-envelope.js';
import { gatheringMember } from '../../shared/kafka/group-settings.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import { offsetCommitIntervalMs, throttledOffsetCommits } from '../../shared/kafka/offset-commits.js';
import type { Logger } from '../../shared/logger.js';
import { SpanKind, contextOf, isSampled, startSpan, traceparentOf, validTraceparent } from '../../shared/trace-context.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import type { CommandSender } from './command-sender.js';
import { sagaCommandId, triggerOf, type Saga, type SagaInput } from './process-manager.js';
import { createSagaStore, type SagaInstance } from './saga-store.js';

export interface SagaRuntime {
  stop(): Promise<void>;
}

/** How long an outbox may hold commands before a poller sends them for a process that must have died. */
const staleOutboxMs = 10_000;

/** Compare-and-set rounds before an input is given up for now (and retried with its batch). */
const maxRounds = 20;

const sagaGroup = (config: Pick<Config, 'topics'>, saga: Pick<Saga<unknown>, 'name'>) => `${config.topics.prefix}.saga.${saga.name}`;

/**
 * Commits where the group starts, for the partitions it never committed: the first
 * event written at or after `since`. Durable, so that a process killed before its
 * first commit does not start, restarted, at a later point and miss the events between.
 */
async function pinStart(log: LogClient, groupId: string, topic: string, since: Date): Promise<void> {
  await log.withAdmin(async (admin) => {
    const committed = await admin.committedOffsets(groupId, topic);
    const unset = (await admin.offsetsAt(topic, since)).filter(({ partition }) => !committed.has(partition));
    if (unset.length === 0) return;
    try {
      await admin.setCommittedOffsets(groupId, topic, unset);
    } catch {
      // The group has members: one of them started it already.
    }
  });
}

export async function startSagaRuntime<State>(options: {
  log: LogClient;
  config: Config;
  logger: Logger;
  saga: Saga<State>;
  sender: CommandSender;
  /** The app's event types: the saga sees events upcast to their current versions. */
  events: EventCatalog;
}): Promise<SagaRuntime> {
  const { log, config, saga, sender } = options;
  const logger = options.logger.child({ saga: saga.name });
  const store = createSagaStore<State>(config, saga.name);
  const topic = writeSideTopics(config).events;
  let stopping = false;

  /** Sends what the instance's outbox holds, then takes the sent commands off it. */
  async function flush(instance: string, record: SagaInstance<State>): Promise<void> {
    if (record.outbox.length === 0) return;
    // The conversation is the instance's own name (an order id), in its tenant.
    const { tenant, name } = unscoped(instance);
    for (const entry of record.outbox) {
      const outcome = await sender.send(entry, name, tenant);
      if (outcome.kind === 'refused') {
        logger.info({ instance, commandId: entry.commandId, commandType: entry.command.commandType, code: outcome.code, detail: outcome.detail }, 'the write side refused a saga command; the saga learns the outcome from the events');
      }
    }
    const sent = new Set(record.outbox.map((entry) => entry.commandId));
    for (let current = record; ; ) {
      const next = { state: current.state, handled: current.handled, outbox: current.outbox.filter((entry) => !sent.has(entry.commandId)) };
      if (await store.save(instance, current.version, next, { set: [], clear: [] })) return;
      const reloaded = await store.load(instance);
      if (reloaded === undefined) return;
      current = reloaded;
    }
  }

  async function handle(instance: string, input: SagaInput, traceparent: string | undefined): Promise<void> {
    const trigger = triggerOf(instance, input);
    for (let round = 1; round <= maxRounds; round++) {
      const current = (await store.load(instance)) ?? { version: 0, state: saga.initialState(), handled: [], outbox: [] };
      if (current.handled.includes(trigger)) {
        await flush(instance, current);
        return;
      }
      // A deadline cleared or moved since it was found due is not due any more.
      if (input.kind === 'deadline' && (await store.deadlineAt(instance, input.deadline.name)) !== input.deadline.at) return;
      const reacted = saga.react(current.state, input);
      const commands = reacted.commands.map((command, index) => ({
        commandId: sagaCommandId(saga.name, trigger, index),
        command,
        ...(traceparent === undefined ? {} : { traceparent }),
      }));
      const fired = input.kind === 'deadline' && !reacted.setDeadlines.some((deadline) => deadline.name === input.deadline.name) ? [input.deadline.name] : [];
      const next = { state: reacted.state, handled: [...current.handled, trigger], outbox: [...current.outbox, ...commands] };
      if (await store.save(instance, current.version, next, { set: reacted.setDeadlines, clear: [...reacted.clearDeadlines, ...fired] })) {
        await flush(instance, { ...next, version: current.version + 1 });
        return;
      }
    }
    throw new Error(`saga instance ${instance} kept changing while reacting to ${trigger}`);
  }

  /** Runs `work` until it succeeds, with backoff: a gateway or Redis that is down is waited for. */
  async function untilDone(work: () => Promise<void>, still: () => boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await work();
        return;
      } catch (error) {
        if (stopping || !still()) throw error;
        const delayMs = Math.min(5_000, 100 * 2 ** Math.min(attempt, 10));
        logger.warn({ err: error, attempt, delayMs }, 'saga input not handled yet; retrying');
        await sleep(delayMs);
      }
    }
  }

  await ensureWriteSideTopics(log, config);
  await pinStart(log, sagaGroup(config, saga), topic, config.saga.startAt);
  const consumer = log.groupConsumer({
    ...gatheringMember(config, sagaGroup(config, saga)),
    topics: [{ topic, fromBeginning: false }],
    partitionsConcurrently: config.topics.partitions,
    onBatch: async (batch, context) => {
      const current = () => context.isCurrent();
      for (const record of batch.records) {
        if (!current()) return;
        let event;
        try {
          event = options.events.upcast(decodeEvent(record));
        } catch {
          continue; // not an event, or one this app cannot read: the projections' dead letters report such records
        }
        const named = saga.instanceOf(event);
        if (named !== undefined) {
          const instance = scoped(event.tenant, named);
          const parent = validTraceparent(headerValue(record.headers, eventHeaders.traceparent));
          // The commands join the trace of the event that caused them, through a span of the saga's own when it is recorded.
          const span = isSampled(parent)
            ? startSpan(`saga ${saga.name} ${event.type}`, { kind: SpanKind.CONSUMER, parent: contextOf(parent), attributes: { 'strata.saga.instance': instance, 'strata.event.id': event.eventId } })
            : undefined;
          const input = { kind: 'event' as const, event };
          try {
            await untilDone(() => handle(instance, input, span === undefined ? parent : traceparentOf(span)), current);
          } finally {
            span?.end();
          }
        }
        context.advance(record.offset + 1n);
        await context.heartbeat();
      }
      commits.note(batch.partition, batch.next);
      context.advance(batch.next);
    },
    onAssigned: () => {
      commits.forget();
    },
    // Markers only: the offset moves past them, or a quiet partition would show lag.
    onSkipped: (_topic, partition, next) => {
      commits.note(partition, next);
    },
  });
  const commits = throttledOffsetCommits(consumer, topic, { intervalMs: offsetCommitIntervalMs, logger });
  await consumer.start();

  // Every saga process polls; the compare-and-set and the handled inputs make a deadline count once.
  let polling = Promise.resolve();
  const poll = async () => {
    for (const { instance, deadline } of await store.dueDeadlines(new Date(), 100)) {
      if (stopping) return;
      await handle(instance, { kind: 'deadline', deadline }, undefined);
    }
    // Commands saved but never sent (their process died in between, after a deadline that
    // will not come again): sent now; their ids make a second sending harmless.
    for (const instance of await store.staleOutboxes(new Date(Date.now() - staleOutboxMs), 100)) {
      if (stopping) return;
      const record = await store.load(instance);
      if (record !== undefined) await flush(instance, record);
    }
  };
  const timer = setInterval(() => {
    polling = polling.then(poll).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not fire due deadlines; trying again');
    });
  }, config.saga.deadlinePollMs);
  logger.info({ group: sagaGroup(config, saga), commandService: config.saga.commandService }, 'saga running');

  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      await polling;
      await commits.flush();
      await consumer.stop();
      commits.stop();
      await store.close();
    },
  };
}
