/**
 * Zipkin 3 from its executable jar, in-memory storage, on loopback only.
 */
import type { Config } from '../../shared/config.js';
import { ensureArtifacts } from './artifacts.js';
import { findJava } from './prerequisites.js';
import type { ServerDefinition } from './server.js';

async function getJson(config: Config, path: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${config.zipkin.port}${path}`, {
    signal: AbortSignal.timeout(2000),
  });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

export const zipkinServer: ServerDefinition = {
  name: 'zipkin',
  artifact: 'zipkin',
  startTimeoutMs: 90_000,
  ports: (config) => [{ port: config.zipkin.port, variable: 'STRATA_ZIPKIN_PORT' }],
  address: (config) => `http://127.0.0.1:${config.zipkin.port}`,

  async prepare({ config, dataDir, reporter }) {
    const java = findJava();
    const { zipkinJar } = await ensureArtifacts(config.stack.artifactsDir, ['zipkin'], reporter);
    const heap = config.zipkin.heap;
    return {
      command: java.bin,
      args: [
        `-Xms${heap}`,
        `-Xmx${heap}`,
        '-jar',
        zipkinJar,
        `--armeria.ports[0].port=${config.zipkin.port}`,
        '--armeria.ports[0].ip=127.0.0.1',
      ],
      cwd: dataDir,
      // In-memory storage, bounded so that traffic cannot exhaust the heap: a Strata span
      // takes about 2 KB there, and 200,000 of them ran a 384 MB heap out of memory under
      // the write benchmark (Zipkin spent a core collecting garbage, then died). The oldest
      // traces are dropped first; tests read theirs back within seconds.
      env: { STORAGE_TYPE: 'mem', MEM_MAX_SPANS: '50000' },
    };
  },

  async probe(config) {
    const health = (await getJson(config, '/health')) as { status?: string };
    if (health.status !== 'UP') throw new Error(`zipkin health is ${String(health.status)}`);
    const info = (await getJson(config, '/info')) as { zipkin?: { version?: string } };
    return info.zipkin?.version ?? 'unknown';
  },
};
