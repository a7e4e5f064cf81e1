/**
 * Sending what a saga instance's outbox holds: each command through the write side
 * (command-sender.ts), then the sent commands taken off the outbox, so that only
 * commands not yet known to be sent stay there for a later try.
 */
import { unscoped } from '../../shared/auth/tenants.js';
import type { Logger } from '../../shared/logger.js';
import type { CommandSender } from './command-sender.js';
import type { SagaInstance, SagaStore } from './saga-store.js';

/** What sending a saga's commands takes. */
export interface OutboxContext<State> {
  store: SagaStore<State>;
  sender: CommandSender;
  logger: Logger;
}

/** Sends what the instance's outbox holds, then takes the sent commands off it. */
export async function flushOutbox<State>(context: OutboxContext<State>, instance: string, record: SagaInstance<State>): Promise<void> {
  if (record.outbox.length === 0) return;
  await sendCommands(context, instance, record);
  await takeOffOutbox(context.store, instance, record, new Set(record.outbox.map((entry) => entry.commandId)));
}

async function sendCommands<State>({ sender, logger }: OutboxContext<State>, instance: string, record: SagaInstance<State>): Promise<void> {
  // The conversation is the instance's own name (an order id), in its tenant.
  const { tenant, name } = unscoped(instance);
  for (const entry of record.outbox) {
    const outcome = await sender.send(entry, name, tenant);
    if (outcome.kind === 'refused') {
      logger.info({ instance, commandId: entry.commandId, commandType: entry.command.commandType, code: outcome.code, detail: outcome.detail }, 'the write side refused a saga command; the saga learns the outcome from the events');
    }
  }
}

/** Saves the outbox without the `sent` commands, on whatever version the instance has now. */
async function takeOffOutbox<State>(store: SagaStore<State>, instance: string, record: SagaInstance<State>, sent: ReadonlySet<string>): Promise<void> {
  for (let current = record; ; ) {
    const next = { state: current.state, handled: current.handled, outbox: current.outbox.filter((entry) => !sent.has(entry.commandId)) };
    if (await store.save(instance, current.version, next, { set: [], clear: [] })) return;
    const reloaded = await store.load(instance);
    if (reloaded === undefined) return;
    current = reloaded;
  }
}
