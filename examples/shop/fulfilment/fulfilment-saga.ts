/**
 * The fulfilment saga of docs/shop.md, one instance per order:
 *
 *   OrderPlaced → ReserveStock for each line, and a deadline to settle by;
 *   every line reserved → ConfirmOrder;
 *   a line rejected → ReleaseStock for what is reserved, CancelOrder (out_of_stock);
 *   the deadline first → the same, with reason timeout.
 *
 * Answers can arrive after the saga gave up (a reservation granted after a
 * rejection or the deadline): what is granted then is released at once. An order
 * cancelled by someone else (the customer), before or after its confirmation, gets
 * what it still holds released too, so a cancelled order never keeps stock.
 */
import { reaction, type EventEnvelope, type Saga, type SagaCommand, type SagaReaction } from 'strata';
import { orderData, productData } from '../events.js';

export type FulfilmentPhase = 'new' | 'reserving' | 'confirming' | 'confirmed' | 'cancelling' | 'cancelled' | 'shipped';

export interface FulfilmentState {
  phase: FulfilmentPhase;
  orderId: string;
  lines: { sku: string; quantity: number }[];
  /** Skus asked to reserve that have not answered yet. */
  pending: string[];
  /** Skus holding a reservation for the order that the saga has not released. */
  held: string[];
  /** Why the saga cancels the order, once it does. */
  reason?: 'out_of_stock' | 'timeout';
}

export const settleDeadline = 'settle';

const release = (orderId: string, skus: readonly string[]): SagaCommand[] =>
  skus.map((sku) => ({ commandType: 'ReleaseStock', aggregateId: sku, data: { orderId } }));

/** Gives up on the order: releases what it holds and cancels it. */
function giveUp(state: FulfilmentState, reason: 'out_of_stock' | 'timeout'): SagaReaction<FulfilmentState> {
  return reaction(
    { ...state, phase: 'cancelling', held: [], reason },
    {
      commands: [...release(state.orderId, state.held), { commandType: 'CancelOrder', aggregateId: state.orderId, data: { reason } }],
      clearDeadlines: [settleDeadline],
    },
  );
}

function onOrderEvent(state: FulfilmentState, event: EventEnvelope, settleWithinMs: number): SagaReaction<FulfilmentState> {
  switch (event.type) {
    case 'OrderPlaced': {
      if (state.phase !== 'new') return reaction(state);
      const lines = orderData(event, 'OrderPlaced').lines.map(({ sku, quantity }) => ({ sku, quantity }));
      return reaction(
        { ...state, phase: 'reserving', orderId: event.aggregateId, lines, pending: lines.map((line) => line.sku) },
        {
          commands: lines.map((line) => ({ commandType: 'ReserveStock', aggregateId: line.sku, data: { orderId: event.aggregateId, quantity: line.quantity } })),
          setDeadlines: [{ name: settleDeadline, at: new Date(Date.parse(event.timestamp) + settleWithinMs).toISOString() }],
        },
      );
    }
    case 'OrderConfirmed':
      return reaction({ ...state, phase: 'confirmed' });
    case 'OrderShipped':
      return reaction({ ...state, phase: 'shipped' });
    case 'OrderCancelled':
      // Whoever cancelled it, nothing stays reserved for a cancelled order.
      return reaction({ ...state, phase: 'cancelled', held: [] }, { commands: release(state.orderId, state.held), clearDeadlines: [settleDeadline] });
    default:
      return reaction(state);
  }
}

function onStockAnswer(state: FulfilmentState, event: EventEnvelope): SagaReaction<FulfilmentState> {
  const sku = event.aggregateId;
  if (!state.pending.includes(sku)) return reaction(state); // an answer already taken into account
  const pending = state.pending.filter((candidate) => candidate !== sku);
  const stillWanted = state.phase === 'reserving';
  if (event.type === 'StockReservationRejected') {
    return stillWanted ? giveUp({ ...state, pending }, 'out_of_stock') : reaction({ ...state, pending });
  }
  if (!stillWanted) return reaction({ ...state, pending }, { commands: release(state.orderId, [sku]) });
  const held = [...state.held, sku];
  if (pending.length > 0) return reaction({ ...state, pending, held });
  return reaction(
    { ...state, pending, held, phase: 'confirming' },
    { commands: [{ commandType: 'ConfirmOrder', aggregateId: state.orderId, data: {} }], clearDeadlines: [settleDeadline] },
  );
}

/** The reference saga; `settleWithinMs` is how long an order may wait for its reservations. */
export function fulfilmentSaga(settleWithinMs: number): Saga<FulfilmentState> {
  return {
    name: 'fulfilment',
    instanceOf(event) {
      if (event.aggregateType === 'Order') return event.aggregateId;
      if (event.type === 'StockReserved' || event.type === 'StockReservationRejected') return productData(event, 'StockReserved').orderId;
      return undefined;
    },
    initialState: () => ({ phase: 'new', orderId: '', lines: [], pending: [], held: [] }),
    react(state, input) {
      if (input.kind === 'deadline') {
        return input.deadline.name === settleDeadline && state.phase === 'reserving' ? giveUp(state, 'timeout') : reaction(state);
      }
      const { event } = input;
      if (event.aggregateType === 'Order') return onOrderEvent(state, event, settleWithinMs);
      return onStockAnswer(state, event);
    },
  };
}
