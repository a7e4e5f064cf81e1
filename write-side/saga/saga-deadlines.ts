/**
 * A saga process's poller: every saga process polls; the compare-and-set and the
 * handled inputs make a deadline count once. Each round feeds the due deadlines
 * through the same path as events, then sends the outboxes that a process which died
 * in between left unsent.
 */
import { flushOutbox } from './saga-outbox.js';
import { handleInput, type SagaContext } from './saga-input.js';

/** How long an outbox may hold commands before a poller sends them for a process that must have died. */
const staleOutboxMs = 10_000;

export interface DeadlinePoller {
  /** Polls no more; resolves once a round under way is over. */
  stop(): Promise<void>;
}

/** Polls every `intervalMs`, one round at a time; `stopping` cuts a round short. */
export function startDeadlinePoller<State>(context: SagaContext<State>, intervalMs: number, stopping: () => boolean): DeadlinePoller {
  let polling = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(() => pollOnce(context, stopping)).catch((error: unknown) => {
      context.logger.warn({ err: error }, 'could not fire due deadlines; trying again');
    });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await polling;
    },
  };
}

async function pollOnce<State>(context: SagaContext<State>, stopping: () => boolean): Promise<void> {
  const { store } = context;
  for (const { instance, deadline } of await store.dueDeadlines(new Date(), 100)) {
    if (stopping()) return;
    await handleInput(context, instance, { kind: 'deadline', deadline }, undefined);
  }
  // Commands saved but never sent (their process died in between, after a deadline that
  // will not come again): sent now; their ids make a second sending harmless.
  for (const instance of await store.staleOutboxes(new Date(Date.now() - staleOutboxMs), 100)) {
    if (stopping()) return;
    const record = await store.load(instance);
    if (record !== undefined) await flushOutbox(context, instance, record);
  }
}
