/**
 * The peer service, one Node process as a user of emmett would run it: fastify in front
 * of emmett's command handler on emmett's PostgreSQL event store (with its default
 * connection pool). The bench spawns it (peer-scenario.ts), so that its CPU is measured
 * on its own, with PEER_DATABASE_URL and PEER_PORT; SIGTERM stops it. It runs the
 * aggregate of the write load's commands, from the app and workload the bench measures
 * (found as the bench finds them, from the same working directory).
 */
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { loadAppWorkload } from '../workload.js';
import { buildPeerApp } from './peer-app.js';

const databaseUrl = process.env.PEER_DATABASE_URL;
const port = Number(process.env.PEER_PORT);
if (databaseUrl === undefined || !Number.isSafeInteger(port) || port <= 0) {
  console.error('peer-service: set PEER_DATABASE_URL and PEER_PORT');
  process.exit(2);
}

const { app, workload } = await loadAppWorkload();
const aggregate = app.domain.aggregateFor(workload.write.commandType);
if (aggregate === undefined) {
  console.error(`peer-service: the app has no aggregate for the write load's ${workload.write.commandType}`);
  process.exit(2);
}

const store = getPostgreSQLEventStore(databaseUrl);
// The schema now rather than on the first command, which would otherwise pay for it.
await store.schema.migrate();
const server = buildPeerApp(store, aggregate, workload.roles);
await server.listen({ host: '127.0.0.1', port });

const stop = async () => {
  await server.close();
  await store.close();
  process.exit(0);
};
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void stop();
  });
}
