/**
 * The local stack's development CA and server certificate (STRATA_STACK_SECURITY=on),
 * made once with the openssl command line in $STRATA_STACK_DIR/security and kept: the
 * services trust the CA (ca.pem), the stack's Redis and Elasticsearch present the
 * server certificate, valid for 127.0.0.1, ::1 and localhost. For development only:
 * the CA's key lies beside it, so anyone who can read the folder can sign for it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackSecurityFiles, type Config } from '../../shared/config.js';
import { StackError } from '../../shared/errors.js';
import type { Reporter } from './reporter.js';

const serverExtensions = [
  'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth',
  '',
].join('\n');

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.error !== undefined) {
    throw new StackError('the secured stack (STRATA_STACK_SECURITY=on) makes its certificates with openssl, and it did not run.', 'Install it (Debian: apt-get install openssl).');
  }
  if (run.status !== 0) throw new StackError(`openssl ${args[0] ?? ''} failed: ${run.stderr.trim()}`);
}

/** The stack's CA and server certificate, made on the first secured start: where they are. */
export function ensureStackCertificates(config: Pick<Config, 'stack'>, reporter: Reporter): ReturnType<typeof stackSecurityFiles> {
  const files = stackSecurityFiles(config.stack.dir);
  mkdirSync(files.dir, { recursive: true });
  chmodSync(files.dir, 0o700);
  if ([files.ca, files.caKey, files.certificate, files.key].every((file) => existsSync(file))) return files;
  reporter.step(`making the local stack's development CA and server certificate in ${files.dir}`);
  // Made aside and moved in CA last: a start interrupted halfway makes them all again.
  const work = mkdtempSync(join(files.dir, 'making-'));
  try {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=Strata local development CA'], work);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], work);
    writeFileSync(join(work, 'server.ext'), serverExtensions);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '825', '-extfile', 'server.ext'], work);
    for (const [made, kept] of [['server.key', files.key], ['server.pem', files.certificate], ['ca.key', files.caKey], ['ca.pem', files.ca]] as const) {
      renameSync(join(work, made), kept);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}
