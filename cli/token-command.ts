/**
 * `strata token`: an access token from the local stack's identity provider, for
 * trying the APIs by hand (local development only).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../shared/config.js';
import { defaultTenant } from '../shared/auth/principal.js';
import { localServiceToken, localUserToken } from '../infra/stack/local-identity.js';
import { action, exitCodes } from './command-runner.js';

/** Keycloak's rule for user names, told before it is asked. */
function subjectName(value: string): string {
  if (value.length < 3 || value.length > 255) throw new InvalidArgumentError('a user name of 3 to 255 characters, e.g. ann');
  return value;
}

export function tokenCommand(): Command {
  return new Command('token')
    .description("print an access token from the local stack's Keycloak: a user with the given tenant and roles, or a service")
    .option('--subject <name>', "the user to sign in as, made in the local realm or brought up to date: its name (3 to 255 characters) is the token's subject", subjectName, 'developer')
    .option('--tenant <tenant>', "the user's tenant", defaultTenant)
    .option('--roles <roles>', "the user's roles, comma-separated (the local realm's: customer, clerk, admin)", 'admin')
    .addOption(new Option('--client <id>', 'sign in as this service instead (client credentials)'))
    .option('--secret <secret>', "the service's client secret")
    .addHelpText(
      'after',
      `
The token is printed alone on stdout, so that it can go into a header:

  TOKEN=$(strata token --subject USER --tenant TENANT --roles ROLE)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8081/...

Needs the local identity provider: strata infra up keycloak (part of the stack
when STRATA_AUTH=on). Local tokens live 5 minutes.`,
    )
    .action(
      action(async (options: { subject: string; tenant: string; roles: string; client?: string; secret?: string }) => {
        const config = loadConfig();
        const token =
          options.client === undefined
            ? await localUserToken(config, {
                username: options.subject,
                tenant: options.tenant,
                roles: options.roles.split(',').map((role) => role.trim()).filter((role) => role !== ''),
              })
            : await localServiceToken(config, options.client, options.secret ?? '');
        process.stdout.write(`${token}\n`);
        return exitCodes.ok;
      }),
    );
}
