/**
 * The event lock file on disk (`strata events schemas --write` writes it, `strata events check`
 * reads it): where it is, and its contents.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockFileName, type EventLock } from '../app/event-lock.js';
import { projectDir } from '../shared/config.js';
import { OperatorError } from '../shared/errors.js';

/** The lock file: the one named, or the project's. */
export const lockFileOf = (named: string | undefined) => (named === undefined ? join(projectDir(), lockFileName) : resolve(named));

/** The lock in `file`, or undefined when there is none yet. */
export function readLock(file: string): EventLock | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EventLock;
  } catch (error) {
    throw new OperatorError(`${file} is not valid JSON: ${(error as Error).message}`, 'usage', 'restore it from version control');
  }
}
