/**
 * The event lock file: every (aggregate, event type, version) an app has declared, with
 * its JSON schema and a few real sample events' data, kept in the app's repository
 * (`events.lock.json` beside its package.json) and reviewed in pull requests like code.
 * `strata events schemas --write` adds what the app declares now (never removing what
 * was written before); `strata events check` (and `checkEventLock` in an app's tests)
 * fails when today's definitions could not read something the lock says was written.
 * docs/evolving-events.md tells the rules.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { createEventCatalog, type EventTypes } from '../shared/event-schemas.js';
import type { EventEnvelope } from '../shared/event-envelope.js';
import type { Domain } from '../write-side/decider/domain.js';
import type { App } from './define-app.js';

export interface LockedVersion {
  version: number;
  schema: unknown;
  /** Data of real events written at this version (at most `samplesPerVersion`). */
  samples: unknown[];
}

export interface LockedType {
  versions: LockedVersion[];
  /** The type a retired type is read as. */
  replacedWith?: string;
}

export interface EventLock {
  /** Aggregate type → event type → what was declared. */
  aggregates: Record<string, Record<string, LockedType>>;
}

export const lockFileName = 'events.lock.json';
export const samplesPerVersion = 3;

/** A schema as JSON: what TypeBox adds besides JSON Schema (its symbols) is not part of it. */
const asJson = (schema: TSchema): unknown => JSON.parse(JSON.stringify(schema)) as unknown;

/**
 * The lock with what `domain` declares today added to `existing`: new types and versions
 * with their schemas, and samples from `events` (stored events, as written) for versions
 * that have fewer than `samplesPerVersion`. Nothing is removed or changed.
 */
export function updatedLock(domain: Domain, existing: EventLock, events: readonly EventEnvelope[] = []): EventLock {
  const lock: EventLock = structuredClone(existing);
  for (const aggregate of domain.aggregates) {
    for (const [type, definition] of Object.entries(aggregate.events)) {
      const byType = (lock.aggregates[aggregate.type] ??= {});
      const locked = (byType[type] ??= { versions: [] });
      definition.versions.forEach((schema, index) => {
        if (!locked.versions.some((entry) => entry.version === index + 1)) locked.versions.push({ version: index + 1, schema: asJson(schema), samples: [] });
      });
      locked.versions.sort((a, b) => a.version - b.version);
      if (definition.replacedBy !== undefined) locked.replacedWith ??= definition.replacedBy.type;
    }
  }
  for (const event of events) addSample(lock, event);
  return lock;
}

/**
 * Keeps `event`'s data as a sample of its type and version in `lock` (changed in place),
 * unless the version is not in the lock or has its samples already; whether every
 * version of the lock now has its samples.
 */
export function addSample(lock: EventLock, event: EventEnvelope): boolean {
  const entry = lock.aggregates[event.aggregateType]?.[event.type]?.versions.find((candidate) => candidate.version === event.schemaVersion);
  if (entry !== undefined && entry.samples.length < samplesPerVersion && !entry.samples.some((sample) => isDeepStrictEqual(sample, event.data))) {
    entry.samples.push(event.data);
  }
  const { versions, samples } = lockSummary(lock);
  return samples >= versions * samplesPerVersion;
}

/** The first path where two JSON values differ, as a JSON pointer ('' for the whole). */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}/${key}`);
    if (found !== undefined) return found;
  }
  return path;
}

/** A schema path (`/properties/price/properties/cents/type`) as the field it describes (`price.cents`). */
const fieldOf = (pointer: string) =>
  pointer
    .split('/')
    .reduce<string[]>((fields, part, index, parts) => (parts[index - 1] === 'properties' ? [...fields, part] : fields), [])
    .join('.') || '(the whole event)';

const ajv = new Ajv({ allErrors: false, strict: false });

/**
 * What today's definitions cannot read of what the lock says was written, one line each,
 * naming the aggregate, type, version and field; empty when all is well.
 */
export function lockProblems(domain: Domain, lock: EventLock): string[] {
  const problems: string[] = [];
  const types: Record<string, EventTypes> = Object.fromEntries(domain.aggregates.map((aggregate) => [aggregate.type, aggregate.events]));
  const catalog = createEventCatalog(types);
  for (const [aggregateType, byType] of Object.entries(lock.aggregates)) {
    for (const [type, locked] of Object.entries(byType)) {
      const where = `${aggregateType} ${type}`;
      const definition = types[aggregateType]?.[type];
      if (definition === undefined) {
        problems.push(`${where}: written (in ${lockFileName}) but no longer declared; keep it, retired with replacedWith() if the decider no longer returns it`);
        continue;
      }
      if (definition.upcasters.length !== definition.versions.length - 1) {
        problems.push(`${where}: ${String(definition.versions.length)} versions but ${String(definition.upcasters.length)} upcasters; each version after the first needs one from the version before`);
      }
      for (const entry of locked.versions) {
        const schema = definition.versions[entry.version - 1];
        if (schema === undefined) {
          problems.push(`${where} v${String(entry.version)}: written but the app declares only ${String(definition.versions.length)} version(s)`);
          continue;
        }
        const difference = firstDifference(entry.schema, asJson(schema));
        if (difference !== undefined) {
          problems.push(`${where} v${String(entry.version)}: the schema changed at ${fieldOf(difference)} (${difference || '/'}); a written version stays as it was: restore it and declare v${String(definition.versions.length + 1)} with an upcaster`);
          continue;
        }
        for (const [index, sample] of entry.samples.entries()) {
          const stored: EventEnvelope = { eventId: `sample-${String(index)}`, type, tenant: 'default', aggregateType, aggregateId: 'sample', version: 1, commandId: 'sample', causationId: 'sample', correlationId: 'sample', timestamp: '', schemaVersion: entry.version, data: sample };
          if (!ajv.validate(asJson(schema) as object, sample)) {
            problems.push(`${where} v${String(entry.version)}: sample ${String(index + 1)} does not match its own schema at ${ajv.errors?.[0]?.instancePath || '/'} (${ajv.errors?.[0]?.message ?? 'invalid'})`);
            continue;
          }
          let read: EventEnvelope;
          try {
            read = catalog.upcast(stored);
          } catch (error) {
            problems.push(`${where} v${String(entry.version)}: sample ${String(index + 1)} cannot be upcast: ${error instanceof Error ? error.message : String(error)}`);
            continue;
          }
          const violation = catalog.violation(aggregateType, read.type, read.data);
          if (violation !== undefined) problems.push(`${where} v${String(entry.version)}: sample ${String(index + 1)} upcast to ${violation}`);
        }
      }
    }
  }
  return problems;
}

/**
 * For an app's own tests (`strata/testing`): fails, listing every problem, when `app`
 * cannot read what the lock file at `file` says was written. What `strata events check` does.
 */
export function assertEventLock(app: Pick<App, 'domain'>, file: string): void {
  const lock = JSON.parse(readFileSync(file, 'utf8')) as EventLock;
  const problems = lockProblems(app.domain, lock);
  assert.deepEqual(problems, [], `the app cannot read every event version in ${file}:\n${problems.join('\n')}`);
}

/** What `lockProblems` looked at, for `strata events check` to say. */
export function lockSummary(lock: EventLock): { types: number; versions: number; samples: number } {
  const entries = Object.values(lock.aggregates).flatMap((byType) => Object.values(byType));
  const versions = entries.flatMap((entry) => entry.versions);
  return { types: entries.length, versions: versions.length, samples: versions.reduce((sum, entry) => sum + entry.samples.length, 0) };
}
