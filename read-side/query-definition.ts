/**
 * The query definition API: an app declares its read API as queries, and the query
 * service gives each one an HTTP route (validated and documented in OpenAPI), the same
 * query over gRPC, consistency-token waits on the projections it reads, circuit
 * breakers, ETags and problem responses. A query is a route, a parameter schema, an
 * answer schema, the projections it reads, and a function over a ReadContext.
 */
import type { AccessRule } from '../shared/auth/principal.js';
import type { estypes } from '@elastic/elasticsearch';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Projection } from '../projections/projection.js';
import type { Document } from '../stores/projection-sink.js';

/** A stored document with its version (the aggregate's version it reflects). */
export type Versioned<Doc extends Document = Document> = Doc & { version: number };

/**
 * A search of an Elasticsearch read model. Filters are structured clauses; free
 * text goes into a `match` (never query-string syntax); a facet is a terms
 * aggregation computed before `postFilter`, so it counts what matches every filter
 * but the post-filter. Pages follow signed cursors (`search_after`): `sort` must end
 * on a field unique per document so that pages never repeat or skip a hit.
 */
export interface SearchSpec {
  filters?: readonly estypes.QueryDslQueryContainer[];
  /** Free text: every word must match `field` (default `text`); `boost` ranks matches in other fields higher. */
  text?: { query: string; field?: string; boost?: Readonly<Record<string, number>> } | undefined;
  postFilter?: estypes.QueryDslQueryContainer | undefined;
  facets?: Readonly<Record<string, { field: string; size: number }>>;
  sort: estypes.Sort;
  /** Hits per page. */
  size: number;
  /** The previous page's nextCursor. */
  cursor?: string | undefined;
}

export interface SearchPage<Doc extends Document = Document> {
  hits: Versioned<Doc>[];
  total: number;
  /** Bucket counts of each facet, by key, most frequent first. */
  facets: Record<string, { key: string; count: number }[]>;
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/**
 * What a query reads with, always from a projection's live version and only from the
 * projections the query declares in `reads`.
 */
export interface ReadContext {
  /** A Redis projection's document by id. */
  document<Doc extends Document = Document>(projection: Projection, id: string): Promise<Versioned<Doc> | undefined>;
  /** The documents whose ids a sorted set of a Redis projection holds (its effects made it), highest score first. */
  list<Doc extends Document = Document>(projection: Projection, sortedSet: string, limit: number): Promise<Versioned<Doc>[]>;
  /** A sorted set's members with a positive score, highest first. */
  ranking(projection: Projection, sortedSet: string, limit: number): Promise<{ member: string; score: number }[]>;
  /** A search of an Elasticsearch projection. */
  search<Doc extends Document = Document>(projection: Projection, spec: SearchSpec): Promise<SearchPage<Doc>>;
}

export interface Query<Params extends TObject = TObject, Answer extends TSchema = TSchema> {
  /** The query's name: its gRPC name and OpenAPI operation id, e.g. `getProduct`. */
  name: string;
  /** The HTTP route (GET), with `:name` path parameters that `params` declares, e.g. `/products/:sku`. */
  route: string;
  summary: string;
  /** OpenAPI tags, to group routes in /docs. */
  tags?: readonly string[];
  /** Path and query-string parameters in one object schema; unknown parameters are refused. */
  params: Params;
  answer: Answer;
  /** The projections it reads: a consistency token waits for these. */
  reads: readonly Projection[];
  /** Who may run it (checked when STRATA_AUTH is on); without one, nobody. */
  access?: AccessRule<Static<Params>>;
  /** Throw NotFoundError for a missing thing (404), ValidationError for parameters that do not go together (400). */
  run(params: Static<Params>, read: ReadContext): Promise<Static<Answer>>;
}

/** Checks a query's name, route and path parameters; the runtime validates what it passes in. */
export function defineQuery<Params extends TObject, Answer extends TSchema>(query: Query<Params, Answer>): Query {
  if (!/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(query.name)) {
    throw new Error(`query name "${query.name}" must be letters and digits, starting with a letter`);
  }
  if (!query.route.startsWith('/')) throw new Error(`query ${query.name}: route "${query.route}" must start with /`);
  for (const name of pathParameters(query.route)) {
    if (!(name in query.params.properties)) throw new Error(`query ${query.name}: path parameter :${name} is not in its params schema`);
  }
  return query;
}

/** The `:name` parameters of a route, in order. */
export const pathParameters = (route: string): string[] => [...route.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] ?? '');

/** A route's shape with its parameter names erased: two routes of one shape cannot both be served. */
export const routeShape = (route: string) => route.replace(/:[A-Za-z0-9_]+/g, ':');
