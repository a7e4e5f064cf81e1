/**
 * `--tenant <tenant>`: whose data an operator command shows or acts on. Operators
 * reach every tenant's data (they read Kafka and the stores directly); the option
 * says which one they mean. Commands that look at one aggregate default to the
 * default tenant; commands over many records show every tenant's unless told.
 */
import { InvalidArgumentError, Option } from 'commander';
import { defaultTenant } from '../shared/auth/principal.js';
import { tenantPattern, tenantRule } from '../shared/auth/tenants.js';

const tenantName = (value: string): string => {
  if (!tenantPattern.test(value)) throw new InvalidArgumentError(`a tenant is ${tenantRule}`);
  return value;
};

/** The tenant of one aggregate or document: the default tenant when not given. */
export const tenantOption = (description: string) => new Option('--tenant <tenant>', description).argParser(tenantName).default(defaultTenant);

/** A filter over many records: every tenant's when not given. */
export const tenantFilterOption = (description: string) => new Option('--tenant <tenant>', description).argParser(tenantName);
