/**
 * The data of a root stack's server that runs as a system user of its own
 * (Elasticsearch): not in the project, whose parent folders that user may not enter
 * (root's home, a `mktemp -d`), but in a folder per project under /var/lib/strata.
 * Each such folder names the stack folder it belongs to (`owner`); a folder whose
 * project is gone is removed by the next start of any project, so that deleted
 * clones leave nothing behind.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Config } from '../../shared/config.js';
import { stackPaths } from '../../shared/config.js';
import type { Reporter } from './reporter.js';

const systemDataRoot = '/var/lib/strata';
const ownerFile = 'owner';

/** `/var/lib/strata/<server>/<project>-<hash of its stack folder>`. */
export function systemDataDir(config: Config, server: string): string {
  const stackDir = resolve(config.stack.dir);
  const project = basename(dirname(stackDir)).replace(/[^A-Za-z0-9._-]+/g, '-');
  const hash = createHash('sha256').update(stackDir).digest('hex').slice(0, 12);
  return join(systemDataRoot, server, `${project}-${hash}`);
}

/**
 * Makes `dataDir` the server's data folder: records its owner, adopts the data an
 * earlier Strata kept in the project (its read models survive the move), and removes
 * the folders of projects that no longer exist.
 */
export function claimSystemDataDir(config: Config, server: string, dataDir: string, reporter: Reporter): void {
  const inProject = join(stackPaths(config).data, server);
  if (existsSync(inProject) && !existsSync(join(dataDir, 'data'))) {
    reporter.step(`moving ${server}'s data from ${inProject} to ${dataDir}`);
    // Copied, not renamed: /var/lib may be another file system than the project's.
    cpSync(inProject, dataDir, { recursive: true });
    rmSync(inProject, { recursive: true, force: true });
  }
  writeFileSync(join(dataDir, ownerFile), `${resolve(config.stack.dir)}\n`);
  const parent = dirname(dataDir);
  for (const entry of readdirSync(parent)) {
    const folder = join(parent, entry);
    if (folder === dataDir) continue;
    const owner = existsSync(join(folder, ownerFile)) ? readFileSync(join(folder, ownerFile), 'utf8').trim() : undefined;
    if (owner !== undefined && !existsSync(owner)) {
      reporter.step(`removing ${folder}: its project (${owner}) is gone`);
      rmSync(folder, { recursive: true, force: true });
    }
  }
}
