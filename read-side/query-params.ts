/**
 * A query's parameters checked against its schema outside HTTP (where fastify does
 * it): over gRPC, and for the warm-up. Defaults are filled in, as on HTTP; the
 * failing parameter is named the same way.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { validationError } from '../shared/schema-validation.js';
import type { Query } from './query-definition.js';

const ajv = addFormats.default(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false }));
const validators = new WeakMap<Query, ValidateFunction<Record<string, unknown>>>();

function validatorOf(query: Query): ValidateFunction<Record<string, unknown>> {
  let validate = validators.get(query);
  if (validate === undefined) {
    validate = ajv.compile<Record<string, unknown>>(query.params);
    validators.set(query, validate);
  }
  return validate;
}

/** The parameters with their defaults; a ValidationError naming the parameter when they do not fit. */
export function validatedParams(query: Query, raw: Record<string, unknown>): Record<string, unknown> {
  const params = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== null));
  const validate = validatorOf(query);
  if (!validate(params)) throw validationError(validate.errors, 'querystring');
  return params;
}

/** The parameters of a query run with none given, or undefined when it needs some. */
export function withDefaults(query: Query): Record<string, unknown> | undefined {
  const params = {};
  return validatorOf(query)(params) ? params : undefined;
}
