/**
 * What one client request may weigh, the same at every public entry point: an HTTP
 * body and a gRPC message alike (gRPC's own default, 4 MiB, would let the same command
 * in through one door that the other refuses).
 */
export const maxRequestBytes = 1024 * 1024;
