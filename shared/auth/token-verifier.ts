/**
 * Verifies the bearer token of a request and makes a principal of it, with jose:
 * the signature against the issuer's published keys (fetched from its discovery
 * document, cached, fetched again when a token names a key not seen yet: key
 * rotation), `iss` among the configured issuers, `aud`, `exp`/`nbf` with a small
 * clock skew, and only the configured algorithms (asymmetric ones: `none` and HMAC
 * are refused whatever the token says).
 */
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthSettings } from '../config.js';
import { UnauthenticatedError, UnavailableError } from '../errors.js';
import { defaultTenant, everyRole, type Principal } from './principal.js';
import { anyTenant, tenantPattern } from './tenants.js';

export interface TokenVerifier {
  /** The principal of an `Authorization` header; UnauthenticatedError when there is none or it does not verify. */
  verify(authorization: string | undefined): Promise<Principal>;
}

/** Subjects, tenants and roles are echoed into logs, traces and headers: printable text only. */
const printable = /^[\x21-\x7e\u00a0-\uffff][\x20-\x7e\u00a0-\uffff]{0,254}$/u;

/** The value at a dotted path of the claims (`realm_access.roles`). */
function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : []);

/** The token's tenant: one name, or every tenant (`*`) for the platform's own service clients only. */
function tenantOf(payload: JWTPayload, settings: AuthSettings, clientId: string | undefined): string {
  const claimed = claimAt(payload, settings.tenantClaim);
  if (claimed === undefined && settings.tenants === 'multi') throw new UnauthenticatedError(`the token names no tenant (its ${settings.tenantClaim} claim), and this platform serves several (STRATA_AUTH_TENANTS=multi)`, 'invalid');
  const tenant = claimed ?? defaultTenant;
  if (typeof tenant !== 'string' || !(tenant === anyTenant || tenantPattern.test(tenant))) throw new UnauthenticatedError(`the token's ${settings.tenantClaim} claim is not a tenant name`, 'invalid');
  if (tenant === anyTenant && !(clientId !== undefined && settings.serviceClients.includes(clientId))) {
    throw new UnauthenticatedError(`only the service clients of STRATA_AUTH_SERVICE_CLIENTS may act for every tenant (*); this token's client is ${clientId ?? 'not named (no azp)'}`, 'invalid');
  }
  return tenant;
}

function principalOf(payload: JWTPayload, settings: AuthSettings): Principal {
  const subject = claimAt(payload, settings.subjectClaim);
  if (typeof subject !== 'string' || !printable.test(subject)) throw new UnauthenticatedError(`the token has no usable subject (${settings.subjectClaim})`, 'invalid');
  const clientId = typeof payload.azp === 'string' ? payload.azp : undefined;
  const tenant = tenantOf(payload, settings, clientId);
  const roles = strings(claimAt(payload, settings.rolesClaim)).filter((role) => printable.test(role) && role !== everyRole);
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter((scope) => scope !== '') : [];
  return { subject, tenant, roles, scopes, ...(clientId === undefined ? {} : { clientId }) };
}

/** What a jose failure tells the client: the reason, never a key or the token. */
function refusal(error: unknown): Error {
  if (error instanceof UnauthenticatedError || error instanceof UnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new UnauthenticatedError('the token has expired', 'invalid');
  if (error instanceof errors.JWTClaimValidationFailed) return new UnauthenticatedError(`the token's ${error.claim} claim is not acceptable (${error.reason})`, 'invalid');
  if (error instanceof errors.JOSEAlgNotAllowed) return new UnauthenticatedError('the token is signed with an algorithm that is not accepted', 'invalid');
  if (error instanceof errors.JWKSNoMatchingKey) return new UnauthenticatedError("no key of the issuer's matches the token's signature", 'invalid');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new UnauthenticatedError("the token's signature does not verify", 'invalid');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return new UnavailableError('the identity provider did not answer for its keys', 2);
  if (error instanceof errors.JOSEError) return new UnauthenticatedError(`the token cannot be verified (${error.code})`, 'invalid');
  return new UnavailableError('the identity provider cannot be reached', 2);
}

interface Issuer {
  keys: ReturnType<typeof createRemoteJWKSet>;
}

/** The issuer's keys, from its OpenID discovery document (looked up once, again after a failure). */
function issuerKeys(issuer: string, fetchTimeoutMs: number): () => Promise<Issuer> {
  let known: Promise<Issuer> | undefined;
  return () =>
    (known ??= (async () => {
      const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(fetchTimeoutMs) });
      if (!response.ok) throw new UnavailableError(`the identity provider's discovery document answered ${String(response.status)}`, 2);
      const { jwks_uri: jwksUri } = (await response.json()) as { jwks_uri?: unknown };
      if (typeof jwksUri !== 'string') throw new UnavailableError("the identity provider's discovery document names no jwks_uri", 2);
      // A token naming a key not seen yet makes jose fetch the set again (at most every 2 s): rotation.
      return { keys: createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: fetchTimeoutMs, cooldownDuration: 2_000, cacheMaxAge: 10 * 60_000 }) };
    })().catch((error: unknown) => {
      known = undefined;
      throw error instanceof UnavailableError ? error : new UnavailableError('the identity provider cannot be reached', 2);
    }));
}

/**
 * Tokens verified lately, with their principal: a client sends the same token with
 * every request until it expires, and an RSA verification costs the gateway a sixth of
 * a millisecond per request. An entry lasts a minute at most (never past the token's
 * `exp`), no longer than the issuer's key set is cached anyway.
 */
const verifiedForMs = 60_000;
const verifiedEntries = 10_000;

export function createTokenVerifier(settings: AuthSettings): TokenVerifier {
  const issuers = new Map(settings.issuers.map((issuer) => [issuer, issuerKeys(issuer, 5_000)]));
  const verified = new Map<string, { principal: Principal; until: number }>();
  const remember = (token: string, principal: Principal, exp: number | undefined) => {
    if (verified.size >= verifiedEntries) verified.delete(verified.keys().next().value ?? '');
    verified.set(token, { principal, until: Math.min(Date.now() + verifiedForMs, (exp ?? 0) * 1000) });
  };
  return {
    async verify(authorization) {
      if (authorization === undefined || authorization === '') throw new UnauthenticatedError('send an access token: Authorization: Bearer <token>', 'missing');
      const match = /^Bearer ([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]*)$/.exec(authorization);
      const token = match?.[1];
      if (token === undefined) throw new UnauthenticatedError('the Authorization header is not "Bearer" and a JWT', 'invalid');
      const known = verified.get(token);
      if (known !== undefined && known.until > Date.now()) return known.principal;
      try {
        // The issuer chooses the keys: read unverified here, verified with them below.
        const { iss } = decodeJwt(token);
        const keysOf = typeof iss === 'string' ? issuers.get(iss) : undefined;
        if (keysOf === undefined) throw new UnauthenticatedError('the token is not from an accepted issuer', 'invalid');
        const { keys } = await keysOf();
        const { payload } = await jwtVerify(token, keys, {
          issuer: iss,
          audience: settings.audience,
          algorithms: [...settings.algorithms],
          clockTolerance: settings.clockSkewSeconds,
          requiredClaims: ['exp', 'sub'],
        });
        const principal = principalOf(payload, settings);
        remember(token, principal, payload.exp);
        return principal;
      } catch (error) {
        throw refusal(error);
      }
    },
  };
}
