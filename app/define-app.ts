/**
 * An app is what a team brings to Strata: its aggregates (deciders with their
 * command schemas), its projections, the queries of its read API, its sagas and its
 * own settings, in one typed definition. `defineApp` checks the definition as a
 * whole, so that a mistake stops at load with a message naming the culprit instead
 * of surfacing later in one role.
 */
import { AppDefinitionError } from '../shared/errors.js';
import { settingValues, type Setting } from '../shared/config.js';
import { defineDomain, type Aggregate, type Domain } from '../write-side/decider/domain.js';
import type { Saga } from '../write-side/saga/process-manager.js';
import { projectionId } from '../shared/projection-id.js';
import type { Projection } from '../projections/projection.js';
import { routeShape, type Query } from '../read-side/query-definition.js';

type Settings = Readonly<Record<string, Setting<unknown>>>;
export type SettingValues<S extends Settings> = ReturnType<typeof settingValues<S>>;

export interface AppDefinition<S extends Settings = Settings> {
  /** Lower-case letters, digits and dashes; it names the read API. */
  name: string;
  aggregates: readonly Aggregate[];
  projections?: readonly Projection[];
  queries?: readonly Query[];
  /** The sagas, or a function of the app's settings that makes them. */
  sagas?: readonly Saga<unknown>[] | ((settings: SettingValues<S>) => readonly Saga<unknown>[]);
  /** The app's own settings: environment variables with defaults (made with `appSetting`). */
  settings?: S;
}

/** Marks an app made by defineApp, whichever copy of Strata made it. */
const appMark = Symbol.for('strata.app');

export interface App {
  readonly [appMark]: true;
  readonly name: string;
  readonly domain: Domain;
  readonly projections: readonly Projection[];
  readonly queries: readonly Query[];
  readonly settings: Settings;
  /** The sagas, made with the settings read from `env` (a ConfigError names an invalid one). */
  sagas(env?: NodeJS.ProcessEnv): readonly Saga<unknown>[];
}

export const isApp = (value: unknown): value is App =>
  typeof value === 'object' && value !== null && (value as Partial<App>)[appMark] === true;

function refuse(app: string, reason: string): never {
  throw new AppDefinitionError(`app ${app}: ${reason}`);
}

function firstDuplicate(names: readonly string[]): string | undefined {
  return names.find((name, index) => names.indexOf(name) !== index);
}

export function defineApp<S extends Settings = Settings>(definition: AppDefinition<S>): App {
  const { name } = definition;
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) refuse(JSON.stringify(name), 'the name must be lower-case letters, digits and dashes');
  if (definition.aggregates.length === 0) refuse(name, 'defines no aggregate');
  const aggregateType = firstDuplicate(definition.aggregates.map((aggregate) => aggregate.type));
  if (aggregateType !== undefined) refuse(name, `two aggregates have the type ${aggregateType}`);
  let domain: Domain;
  try {
    domain = defineDomain(definition.aggregates);
  } catch (error) {
    refuse(name, (error as Error).message);
  }

  const projections = definition.projections ?? [];
  // One name may have several versions defined (a new one being built beside the live one), each once.
  const projectionName = firstDuplicate(projections.map(projectionId));
  if (projectionName !== undefined) refuse(name, `projection ${projectionName} is defined twice`);
  const types = new Set(definition.aggregates.map((aggregate) => aggregate.type));
  for (const projection of projections) {
    if (!types.has(projection.aggregateType)) {
      refuse(name, `projection ${projection.name} reads aggregate type ${projection.aggregateType}, which the app does not define`);
    }
  }

  const queries = definition.queries ?? [];
  const queryName = firstDuplicate(queries.map((query) => query.name));
  if (queryName !== undefined) refuse(name, `two queries are named ${queryName}`);
  const routes = new Map<string, string>();
  const defined = new Set(projections.map(projectionId));
  for (const query of queries) {
    const other = routes.get(routeShape(query.route));
    if (other !== undefined) refuse(name, `queries ${other} and ${query.name} are both on route ${query.route}`);
    routes.set(routeShape(query.route), query.name);
    if (query.reads.length === 0) refuse(name, `query ${query.name} reads no projection`);
    for (const projection of query.reads) {
      if (!defined.has(projectionId(projection))) {
        refuse(name, `query ${query.name} reads projection ${projectionId(projection)}, which the app does not define`);
      }
    }
  }

  const settings: Settings = definition.settings ?? {};
  for (const entry of Object.values(settings)) {
    if (entry.variable.startsWith('STRATA_')) refuse(name, `setting ${entry.variable}: STRATA_ variables are the platform's`);
  }
  const variable = firstDuplicate(Object.values(settings).map((entry) => entry.variable));
  if (variable !== undefined) refuse(name, `two settings read ${variable}`);

  const sagas = (env: NodeJS.ProcessEnv = process.env): readonly Saga<unknown>[] => {
    const made = typeof definition.sagas === 'function' ? definition.sagas(settingValues(settings as S, env)) : (definition.sagas ?? []);
    const sagaName = firstDuplicate(made.map((saga) => saga.name));
    if (sagaName !== undefined) refuse(name, `two sagas are named ${sagaName}`);
    return made;
  };
  sagas(Object.fromEntries(Object.values(settings).map((entry) => [entry.variable, entry.fallback])));

  return Object.freeze({ [appMark]: true as const, name, domain, projections, queries, settings, sagas });
}
