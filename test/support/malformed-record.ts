/** For assert.throws: the error is a MalformedRecordError whose message matches `message`. */
import assert from 'node:assert/strict';
import { MalformedRecordError } from '../../shared/errors.js';

export const malformed = (message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof MalformedRecordError, `not a MalformedRecordError: ${String(error)}`);
  assert.match(error.message, message);
  return true;
};
