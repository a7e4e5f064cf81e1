/**
 * The shop's product aggregate run by emmett: an adapter from Strata's decider
 * (examples/shop/products/product.ts, its own decide, evolve and initialState, not a
 * copy) to emmett's CommandHandler, which reads the product's stream from the event
 * store, folds it with `evolve`, asks `decide` and appends what it decided, expecting
 * the version it read.
 */
import { randomUUID } from 'node:crypto';
import { CommandHandler } from '@event-driven-io/emmett';
import type { PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import type { DecideContext } from '../../app/index.js';
import { productDecider, type ProductCommand, type ProductEvent, type ProductState } from '../../examples/shop/products/product.js';

/** The stream of a product: emmett names a stream's type by the part before its first '-'. */
const streamOf = (sku: string) => `product-${sku}`;

const handle = CommandHandler<ProductState, ProductEvent>({
  evolve: productDecider.evolve,
  initialState: productDecider.initialState,
  mapToStreamId: streamOf,
  // Two commands on one product at once: the second append finds the version moved and
  // is tried again on the new state, as emmett documents (Strata orders them per product).
  retry: { onVersionConflict: true },
});

/**
 * Who sent the command, for the decider's context. The peer verifies no token (the bench's
 * requests carry one when --auth is on); the product decider does not look at it.
 */
const principal = { subject: 'bench', tenant: 'default', roles: ['clerk'], scopes: [] };

export interface HandledCommand {
  commandId: string;
  aggregateId: string;
  /** The stream's version after the command. */
  version: number;
  events: string[];
}

/** Runs `command` on product `sku`; a refusal is thrown as the decider throws it (NotFoundError, BusinessRuleError). */
export async function handleProductCommand(store: PostgresEventStore, sku: string, command: ProductCommand): Promise<HandledCommand> {
  const context: DecideContext = { aggregateId: sku, commandId: randomUUID(), now: new Date(), principal };
  const { newEvents, nextExpectedStreamVersion } = await handle(store, sku, (state) => productDecider.decide(command, state, context));
  return { commandId: context.commandId, aggregateId: sku, version: Number(nextExpectedStreamVersion), events: newEvents.map((event) => event.type) };
}
