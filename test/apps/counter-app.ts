/**
 * A small neutral app for the platform's own tests, written like any user's app
 * against the public entry point: counters that are incremented and reset, a Redis
 * read model of each counter's value, an Elasticsearch one searchable by label, and
 * a query over each.
 */
import {
  BusinessRuleError,
  NotFoundError,
  Type,
  defineAggregate,
  defineApp,
  defineElasticsearchProjection,
  defineQuery,
  defineRedisProjection,
  type Decider,
  type DomainEvent,
  type Static,
} from 'strata';

export const counterCommands = {
  Increment: Type.Object({ by: Type.Integer({ minimum: 1, maximum: 1000 }), label: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
  Reset: Type.Object({}, { additionalProperties: false }),
};
type Commands = typeof counterCommands;
type CounterCommand = { [K in keyof Commands]: { type: K; data: Static<Commands[K]> } }[keyof Commands];
type CounterEvent = DomainEvent<'Incremented', { by: number; value: number; label: string }> | DomainEvent<'Reset', { from: number }>;

export const counterDecider: Decider<{ value: number; label: string }, CounterCommand, CounterEvent> = {
  initialState: () => ({ value: 0, label: '' }),
  evolve: (state, event) =>
    event.type === 'Incremented' ? { value: event.data.value, label: event.data.label } : { ...state, value: 0 },
  decide(command, state) {
    if (command.type === 'Increment') {
      return [{ type: 'Incremented', data: { by: command.data.by, value: state.value + command.data.by, label: command.data.label ?? state.label } }];
    }
    if (state.value === 0) throw new BusinessRuleError('already zero', 'counter-not-zero');
    return [{ type: 'Reset', data: { from: state.value } }];
  },
};

export const counters = defineAggregate({ type: 'Counter', decider: counterDecider, commands: counterCommands });

type CounterDocument = { counterId: string; value: number; label: string };
const documentOf = (id: string, data: { value: number; label?: string }, current: CounterDocument | undefined): CounterDocument => ({
  counterId: id,
  value: data.value,
  label: data.label ?? current?.label ?? '',
});

export const counterValue = defineRedisProjection<CounterDocument>({
  name: 'counter-value',
  version: 1,
  description: "each counter's value",
  store: 'redis',
  aggregateType: 'Counter',
  eventTypes: ['Incremented', 'Reset'],
  project: (event, current) => ({
    document: documentOf(event.aggregateId, event.type === 'Reset' ? { value: 0 } : (event.data as { value: number; label: string }), current),
    effects: [],
  }),
});

export const counterSearch = defineElasticsearchProjection<CounterDocument>({
  name: 'counter-search',
  version: 1,
  description: 'counters searchable by label',
  store: 'elasticsearch',
  aggregateType: 'Counter',
  eventTypes: ['Incremented', 'Reset'],
  project: (event, current) => documentOf(event.aggregateId, event.type === 'Reset' ? { value: 0 } : (event.data as { value: number; label: string }), current),
  mappings: {
    dynamic: 'strict',
    properties: { counterId: { type: 'keyword' }, value: { type: 'long' }, label: { type: 'text', analyzer: 'standard' } },
  },
});

const counterAnswer = Type.Object({ counterId: Type.String(), value: Type.Integer(), label: Type.String(), version: Type.Integer() });

export const getCounter = defineQuery({
  name: 'getCounter',
  route: '/counters/:counterId',
  summary: 'A counter',
  params: Type.Object({ counterId: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
  answer: counterAnswer,
  reads: [counterValue],
  async run({ counterId }, read) {
    const found = await read.document<CounterDocument>(counterValue, counterId);
    if (found === undefined) throw new NotFoundError(`no counter ${counterId}`);
    return found;
  },
});

export const searchCounters = defineQuery({
  name: 'searchCounters',
  route: '/counters',
  summary: 'Counters by label words',
  params: Type.Object(
    {
      q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
      size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
      cursor: Type.Optional(Type.String({ maxLength: 512 })),
    },
    { additionalProperties: false },
  ),
  answer: Type.Object({ counters: Type.Array(counterAnswer), total: Type.Integer(), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
  reads: [counterSearch],
  async run({ q, size, cursor }, read) {
    const page = await read.search<CounterDocument>(counterSearch, {
      text: q === undefined ? undefined : { query: q, field: 'label' },
      sort: [{ counterId: 'asc' }],
      size: size ?? 10,
      cursor,
    });
    return { counters: page.hits, total: page.total, nextCursor: page.nextCursor };
  },
});

export default defineApp({
  name: 'counters',
  aggregates: [counters],
  projections: [counterValue, counterSearch],
  queries: [getCounter, searchCounters],
});
