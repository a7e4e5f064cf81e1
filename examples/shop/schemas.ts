/**
 * The shop's value types as JSON Schema (TypeBox gives the schema and the
 * TypeScript type from one definition). The limits are docs/shop.md's.
 */
import { Type, identifierPattern } from 'strata';

export const Identifier = Type.String({ pattern: identifierPattern, minLength: 1, maxLength: 128 });
export const Quantity = Type.Integer({ minimum: 1, maximum: 1_000_000 });
/** Integer minor units; capped so that any order total stays an exact integer. */
export const PriceCents = Type.Integer({ minimum: 0, maximum: 100_000_000 });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });
export const Empty = Type.Object({}, { additionalProperties: false });
export const Tag = Type.String({ pattern: '^[a-z0-9-]{1,40}$' });

/** Read API parameters: an id in a path, a page size, a search cursor, free text. */
export const Id = (description: string) => Type.String({ pattern: identifierPattern, description });
export const Limit = (fallback: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: fallback }));
export const PageSize = Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'hits per page, at most 100' }));
export const Cursor = Type.Optional(
  Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'nextCursor of the previous page' }),
);
export const FreeText = Type.Optional(
  Type.String({ minLength: 1, maxLength: 200, description: 'free text, matched literally word by word (never query syntax)' }),
);
/** Read API answers: the aggregate version a document reflects, timestamps, a next-page cursor. */
export const Version = Type.Integer({ description: 'the version of the aggregate this answer reflects' });
export const Timestamp = Type.String({ format: 'date-time' });
export const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'pass as cursor for the next page; null on the last page' });
/** Parameters that are not declared are refused. */
export const closed = { additionalProperties: false } as const;
