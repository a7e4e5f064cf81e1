/**
 * Ajv errors as Strata's ValidationError: one place decides how a failing part
 * of the input is named, for HTTP (fastify validates with Ajv) and gRPC alike.
 */
import type { ErrorObject } from 'ajv';
import { ValidationError } from './errors.js';

/** Where the input came from: body fields are named by JSON pointer, parameters and headers by name. */
export type InputPart = 'body' | 'querystring' | 'params' | 'headers';

function failingField(error: ErrorObject | undefined, part: InputPart): string {
  if (error === undefined) return '/';
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params.missingProperty ?? params.additionalProperty;
  const pointer = `${error.instancePath}${extra === undefined ? '' : `/${extra}`}`;
  if (part !== 'body' && pointer !== '') return pointer.slice(1).split('/')[0] ?? pointer;
  return pointer || '/';
}

export function validationError(errors: readonly ErrorObject[] | null | undefined, part: InputPart = 'body'): ValidationError {
  const first = errors?.[0];
  const field = failingField(first, part);
  const what = part === 'body' ? field : `${part === 'headers' ? 'header' : 'parameter'} ${field}`;
  if (first?.keyword === 'additionalProperties' && part !== 'body') return new ValidationError(`unknown ${what}`, field);
  return new ValidationError(`${what} ${first?.message ?? 'is invalid'}`, field);
}
