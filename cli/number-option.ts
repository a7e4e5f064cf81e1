import { InvalidArgumentError } from 'commander';

/** A parser for an option or argument that takes a whole number from 1 (to `max`), described as `what` when it is not one. */
export const wholeNumber = (what: string, max = Number.MAX_SAFE_INTEGER) => (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected ${what}`);
  return n;
};

/** A parser for a version number option (of an aggregate, of a projection). */
export const versionNumber = wholeNumber('a version number (1, 2, ...)');
