/**
 * The shop's value types as JSON Schema (TypeBox gives the schema and the
 * TypeScript type from one definition). The limits are docs/shop.md's.
 */
import { Type } from '@sinclair/typebox';
import { identifierPattern } from '../../shared/identifiers.js';

export const Identifier = Type.String({ pattern: identifierPattern, minLength: 1, maxLength: 128 });
export const Quantity = Type.Integer({ minimum: 1, maximum: 1_000_000 });
/** Integer minor units; capped so that any order total stays an exact integer. */
export const PriceCents = Type.Integer({ minimum: 0, maximum: 100_000_000 });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });
export const Empty = Type.Object({}, { additionalProperties: false });
export const Tag = Type.String({ pattern: '^[a-z0-9-]{1,40}$' });
