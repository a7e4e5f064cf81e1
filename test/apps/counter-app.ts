/**
 * A small neutral app for the platform's own tests, written like any user's app
 * against the public entry point: counters that are incremented and reset, a Redis
 * read model of each counter's value, an Elasticsearch one searchable by label, a
 * Redis ranking of counters kept in shared sorted sets (effects; it refuses a reset
 * of a counter it does not hold, which makes a dead letter), and queries over the
 * three.
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

/** A counter exists once incremented: a Reset of one that does not is a 404, of one at zero a 422. */
export const counterDecider: Decider<{ exists: boolean; value: number; label: string }, CounterCommand, CounterEvent> = {
  initialState: () => ({ exists: false, value: 0, label: '' }),
  evolve: (state, event) =>
    event.type === 'Incremented' ? { exists: true, value: event.data.value, label: event.data.label } : { ...state, value: 0 },
  decide(command, state) {
    if (command.type === 'Increment') {
      return [{ type: 'Incremented', data: { by: command.data.by, value: state.value + command.data.by, label: command.data.label ?? state.label } }];
    }
    if (!state.exists) throw new NotFoundError('no such counter');
    if (state.value === 0) throw new BusinessRuleError('already zero', 'counter-not-zero');
    return [{ type: 'Reset', data: { from: state.value } }];
  },
};

export const counters = defineAggregate({
  type: 'Counter',
  decider: counterDecider,
  commands: counterCommands,
  // Clerks count; only an admin resets, and not a counter whose id says it is kept.
  access: {
    Increment: { roles: ['clerk', 'admin'] },
    Reset: { roles: ['admin'], when: (_principal, { aggregateId }) => !aggregateId.startsWith('kept-') },
  },
});

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

/** The shared sorted sets of counter-ranking, relative to its namespace. */
export const rankingKeys = {
  /** counter id → its value, kept by increments (and a reset taking back what was counted). */
  byValue: 'by-value',
  /** counter id → the time of its latest change, trimmed to the latest `keptLatest`. */
  latest: 'latest',
} as const;

export const keptLatest = 10;

/** What the ranking counted for a counter. */
type CountedCounter = { counted: number };

export const counterRanking = defineRedisProjection<CountedCounter>({
  name: 'counter-ranking',
  version: 1,
  description: 'counters ranked by value, and the latest changed ones (shared sorted sets)',
  store: 'redis',
  aggregateType: 'Counter',
  eventTypes: ['Incremented', 'Reset'],
  project(event, current) {
    const member = event.aggregateId;
    const latest = { type: 'sortedSetAdd', key: rankingKeys.latest, member, score: Date.parse(event.timestamp), keepHighest: keptLatest } as const;
    if (event.type === 'Incremented') {
      const { by } = event.data as { by: number };
      return { document: { counted: (current?.counted ?? 0) + by }, effects: [{ type: 'sortedSetIncrement', key: rankingKeys.byValue, member, by }, latest] };
    }
    // A reset takes back what was counted: without the document, the ranking cannot.
    if (current === undefined) {
      throw new Error(`${event.type} v${event.version} for ${event.aggregateType} ${member}, which the read model does not hold`);
    }
    return { document: { counted: 0 }, effects: [{ type: 'sortedSetIncrement', key: rankingKeys.byValue, member, by: -current.counted }, latest] };
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
  access: { roles: ['customer', 'clerk', 'admin'] },
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
  access: { roles: ['customer', 'clerk', 'admin'] },
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

export const rankCounters = defineQuery({
  name: 'rankCounters',
  route: '/rankings/by-value',
  summary: 'Counters by what the ranking counted, highest first',
  params: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) }, { additionalProperties: false }),
  answer: Type.Object({ counters: Type.Array(Type.Object({ counterId: Type.String(), counted: Type.Number() })) }),
  reads: [counterRanking],
  access: { roles: ['customer', 'clerk', 'admin'] },
  async run({ limit }, read) {
    const ranked = await read.ranking(counterRanking, rankingKeys.byValue, limit ?? 10);
    return { counters: ranked.map(({ member, score }) => ({ counterId: member, counted: score })) };
  },
});

export default defineApp({
  name: 'counters',
  aggregates: [counters],
  projections: [counterValue, counterSearch, counterRanking],
  queries: [getCounter, searchCounters, rankCounters],
});
