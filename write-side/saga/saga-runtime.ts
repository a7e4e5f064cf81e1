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
 *
 * The steps: saga-consumer.ts (the events, the group's start and its offsets),
 * saga-input.ts (an input applied to its instance), saga-outbox.ts (sending the
 * commands), saga-deadlines.ts (due deadlines and outboxes left unsent).
 */
import type { Config } from '../../shared/config.js';
import type { EventCatalog } from '../../shared/event-schemas.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import { ensureWriteSideTopics, writeSideTopics } from '../../shared/topics.js';
import type { CommandSender } from './command-sender.js';
import type { Saga } from './process-manager.js';
import { pinStart, sagaGroup, subscribeSaga } from './saga-consumer.js';
import { startDeadlinePoller } from './saga-deadlines.js';
import type { SagaContext } from './saga-input.js';
import { createSagaStore } from './saga-store.js';

export interface SagaRuntime {
  stop(): Promise<void>;
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
  const context: SagaContext<State> = { saga, store: createSagaStore<State>(config, saga.name), sender, logger };
  let stopping = false;
  const isStopping = () => stopping;

  await ensureWriteSideTopics(log, config);
  const group = sagaGroup(config, saga);
  await pinStart(log, group, writeSideTopics(config).events, config.saga.startAt);
  const { consumer, commits } = subscribeSaga(log, config, { ...context, events: options.events, stopping: isStopping });
  await consumer.start();
  const poller = startDeadlinePoller(context, config.saga.deadlinePollMs, isStopping);
  logger.info({ group, commandService: config.saga.commandService }, 'saga running');

  return {
    async stop() {
      stopping = true;
      await poller.stop();
      await commits.flush();
      await consumer.stop();
      commits.stop();
      await context.store.close();
    },
  };
}
