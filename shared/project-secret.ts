/**
 * Secrets a project keeps in its stack folder, made at first use: whichever process
 * of the project asks first (a service, or the stack that must start its server with
 * it) makes it, and every other one reads the same.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreAccess } from './config.js';

/** The secret in `file` (32 random bytes, base64url, mode 0600), made now if there is none. */
export function projectSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  // Written whole, then linked into place: a process starting at the same moment reads all of it or makes its own attempt.
  const draft = `${file}.${String(process.pid)}`;
  writeFileSync(draft, randomBytes(32).toString('base64url'), { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  return readFileSync(file, 'utf8').trim();
}

/** A store's password: the one set, else the local stack's (made on first use), else none. */
export const storePassword = (access: StoreAccess): string | undefined =>
  access.password ?? (access.passwordFile === undefined ? undefined : projectSecret(access.passwordFile));
