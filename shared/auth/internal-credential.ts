/**
 * The credential of Strata's internal plane. A gateway's direct-route calls to the
 * command processors carry a short-lived token (a JWT, HS256) signed with a secret that
 * only Strata's own services share, and a processor decides nothing for a call without a
 * valid one: the principal and tenant inside such a call were resolved by a gateway that
 * ran the access rules, and are trusted only because the call proves it came from one.
 *
 * A shared secret rather than mutual TLS: nothing to run (no certificate authority, no
 * certificates to renew on each host), one setting to rotate on every service, and
 * verification costs microseconds (a verified token is remembered until it expires).
 * Unset, the secret is a random one the project keeps in its stack folder, which every
 * process of the project on this host shares; services on several hosts share
 * STRATA_INTERNAL_SECRET instead (docs/security.md).
 */
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '../config.js';
import { UnauthenticatedError } from '../errors.js';
import { projectSecret } from '../project-secret.js';

const audience = 'strata-internal';
const lifetimeSeconds = 300;

/** The shared secret: STRATA_INTERNAL_SECRET, else the project's own, made on first use. */
export function internalSecret(config: Pick<Config, 'internal' | 'stack'>): Uint8Array {
  return new TextEncoder().encode(config.internal.secret ?? projectSecret(join(config.stack.dir, 'internal-secret')));
}

/** The `authorization` value a service sends with its internal calls, renewed a minute before it expires. */
export function internalSigner(secret: Uint8Array, service: string): () => Promise<string> {
  let current: { value: Promise<string>; renewAt: number } | undefined;
  return () => {
    if (current === undefined || Date.now() >= current.renewAt) {
      const token = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(service).setAudience(audience).setIssuedAt().setExpirationTime(`${String(lifetimeSeconds)}s`).sign(secret);
      current = { value: token.then((signed) => `Bearer ${signed}`), renewAt: Date.now() + (lifetimeSeconds - 60) * 1000 };
    }
    return current.value;
  };
}

/** Checks an internal call's `authorization`; UnauthenticatedError when it is missing or does not verify. */
export function internalVerifier(secret: Uint8Array): (authorization: string | undefined) => Promise<void> {
  const verified = new Map<string, number>();
  return async (authorization) => {
    const token = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) throw new UnauthenticatedError("an internal call carries Strata's internal credential, and this one has none", 'missing');
    if ((verified.get(token) ?? 0) > Date.now()) return;
    try {
      const { payload } = await jwtVerify(token, secret, { audience, algorithms: ['HS256'] });
      if (verified.size > 100) verified.clear();
      verified.set(token, (payload.exp ?? 0) * 1000);
    } catch {
      throw new UnauthenticatedError("the call's internal credential does not verify", 'invalid');
    }
  };
}
