/**
 * The identifier alphabet, shared by aggregate ids, command ids and every id a read
 * route takes: one definition, so a write and the read of what it
 * wrote accept exactly the same ids.
 */
export const identifierPattern = '^[A-Za-z0-9._:-]{1,128}$';
export const identifierRule = '1-128 characters of [A-Za-z0-9._:-]';
const identifierRegExp = new RegExp(identifierPattern);

/** Whether `value` is an identifier (for checks outside a JSON schema: gRPC fields, the CLI). */
export const isIdentifier = (value: string): boolean => identifierRegExp.test(value);
