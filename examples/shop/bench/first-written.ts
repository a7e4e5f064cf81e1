/**
 * The shop's events as its first build wrote them, for the types that have evolved since
 * (ProductRegistered v1: priceCents and currency; the reservation events v1: `available`;
 * OrderPlaced v1: no channel): the bench's logs of old events, which every reader upcasts.
 */
import type { EventEnvelope } from 'strata';

/** What --help says of the evolved types. */
export const evolvedTypes = 'ProductRegistered, OrderPlaced and the reservation events';

/** `event` at the first version of its type; any other event as it is (the same object). */
export function asFirstWritten(event: EventEnvelope): EventEnvelope {
  switch (event.type) {
    case 'ProductRegistered': {
      const { price, ...rest } = event.data as { price: { cents: number; currency: string } };
      return { ...event, schemaVersion: 1, data: { ...rest, priceCents: price.cents, currency: price.currency } };
    }
    case 'StockReserved':
    case 'StockReservationRejected':
    case 'StockReleased': {
      const { availableAfter, ...rest } = event.data as { availableAfter: number };
      return { ...event, schemaVersion: 1, data: { ...rest, available: availableAfter } };
    }
    case 'OrderPlaced': {
      const { channel: _channel, ...rest } = event.data as { channel: string };
      return { ...event, schemaVersion: 1, data: rest };
    }
    default:
      return event;
  }
}
