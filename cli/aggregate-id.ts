/**
 * An aggregate id on the command line: the identifier alphabet the write API takes,
 * so `TENANT/ID` (a tenant's Kafka key) is refused rather than read as the default
 * tenant's aggregate; the tenant is `--tenant`.
 */
import { InvalidArgumentError } from 'commander';
import { identifierRule, isIdentifier } from '../shared/identifiers.js';

export function aggregateId(value: string): string {
  if (!isIdentifier(value)) throw new InvalidArgumentError(`an aggregate id is ${identifierRule}; another tenant's aggregate is named with --tenant`);
  return value;
}
