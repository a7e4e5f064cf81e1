/**
 * Reading a record Strata wrote (a Kafka record's value, a gRPC message's JSON
 * field): parsed, then checked against its kind's schema, so that nothing read is
 * trusted on its type alone. A record that is not JSON, or breaks its schema, is a
 * MalformedRecordError naming the kind and the first place it breaks.
 *
 * Each schema is compiled once, when its decoder is made: the event decoder runs for
 * every event every projection reads.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType, type ValueError } from '@sinclair/typebox/compiler';
import { MalformedRecordError } from './errors.js';

/** A record's value as it arrives; null (a tombstone) and undefined are not JSON. */
export type RecordValue = Buffer | string | null | undefined;

export interface RecordDecoder<T> {
  /** Parses `value` and checks it. */
  (value: RecordValue): T;
  /** Checks a value already parsed: a part of a larger record. */
  check(parsed: unknown): T;
  /** Whether a value already parsed is one: to tell apart the forms of a record. */
  is(parsed: unknown): parsed is T;
}

/** A decoder of `kind` records; `kind` as messages name it, with its article: 'an event envelope'. */
export function recordDecoder<Schema extends TSchema>(kind: string, schema: Schema): RecordDecoder<Static<Schema>> {
  const compiled = TypeCompiler.Compile(schema);
  const check = (parsed: unknown): Static<Schema> => {
    if (compiled.Check(parsed)) return parsed;
    const first = compiled.Errors(parsed).First();
    throw new MalformedRecordError(`not ${kind}: ${first === undefined ? 'it breaks its schema' : describe(reported(first))}`);
  };
  const decode = (value: RecordValue): Static<Schema> => check(parseJson(kind, value));
  return Object.assign(decode, { check, is: (parsed: unknown): parsed is Static<Schema> => compiled.Check(parsed) });
}

function parseJson(kind: string, value: RecordValue): unknown {
  try {
    return JSON.parse(typeof value === 'string' ? value : (value?.toString('utf8') ?? ''));
  } catch {
    throw new MalformedRecordError(`not ${kind}: the value is not JSON`);
  }
}

/**
 * The error to tell: for a value that matches no form of a union (a snapshot is a
 * stream's or a checkpoint), the first error of the form it comes closest to, so that
 * the message names a field rather than the whole union. Closest: a form the value
 * breaks only inside (an object missing a field) rather than by its type (an object
 * where null is expected), then the one with the fewest errors.
 */
function reported(error: ValueError): ValueError {
  if (error.type !== ValueErrorType.Union || error.errors.length === 0) return error;
  const wrongType = (errors: ValueError[]) => errors.some(({ path }) => path === error.path);
  const closer = (a: ValueError[], b: ValueError[]) => (wrongType(a) === wrongType(b) ? a.length < b.length : wrongType(b));
  const forms = error.errors.map((errors) => [...errors]);
  const closest = forms.reduce((best, errors) => (closer(errors, best) ? errors : best));
  return closest[0] === undefined ? error : reported(closest[0]);
}

const describe = (error: ValueError) => `${error.path === '' ? 'the value' : error.path}: ${error.message}`;
