/**
 * How Strata's listeners are addressed: the bind host every listener of a process
 * binds (STRATA_BIND_HOST) and the host other machines reach it at
 * (STRATA_ADVERTISED_HOST), written the way URLs and gRPC targets want them.
 */

/** `host:port`, an IPv6 address in brackets. */
export const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${String(port)}` : `${host}:${String(port)}`);

/** Where a process on this machine reaches a listener bound to `bindHost`: loopback for the wildcard addresses. */
export const localHost = (bindHost: string): string => (bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost === '::' ? '::1' : bindHost);

/** Whether `host` is a wildcard address (every interface), which no other host can be told to reach. */
export const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';

/** Where a listener binds. */
export interface ListenAt {
  host: string;
  port: number;
}
