/**
 * How many reads wait on consistency tokens at once, in a query instance: each waiting
 * read holds a request and its share of the checkpoint polls for up to
 * STRATA_CONSISTENCY_WAIT_MS, so the number is bounded, in all (503: the instance is
 * busy) and per tenant (429: one tenant cannot take the others' share).
 */
import { TooManyRequestsError, UnavailableError } from '../shared/errors.js';

export interface WaitingReads {
  /** Runs `wait` as one of `tenant`'s waiting reads, or refuses at once when there are too many. */
  hold<T>(tenant: string, wait: () => Promise<T>): Promise<T>;
}

export function waitingReads(limits: { total: number; perTenant: number }): WaitingReads {
  let total = 0;
  const byTenant = new Map<string, number>();
  return {
    async hold(tenant, wait) {
      const mine = byTenant.get(tenant) ?? 0;
      if (mine >= limits.perTenant) throw new TooManyRequestsError(`${String(limits.perTenant)} reads of this tenant already wait on consistency tokens here; retry in a second`, 1);
      if (total >= limits.total) throw new UnavailableError(`${String(limits.total)} reads already wait on consistency tokens here; retry in a second`, 1);
      total += 1;
      byTenant.set(tenant, mine + 1);
      try {
        return await wait();
      } finally {
        total -= 1;
        const left = (byTenant.get(tenant) ?? 1) - 1;
        if (left === 0) byTenant.delete(tenant);
        else byTenant.set(tenant, left);
      }
    },
  };
}
