#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { DEFAULT_TOKEN_LIFETIME } from '../auth/jwt.js';
import { PulseError } from '../errors.js';
import { printError, print } from './environment.js';
import { analyticsCommand } from './analytics.js';
import { importCommand } from './import.js';
import { replay } from './replay.js';
import { serve } from './serve.js';
import { addUser, printToken } from './users.js';

const USAGE = `Usage: pulse <command>

  serve                                   run the service (configuration from the environment)
  user add --email E [--name N] [--password P]
                                          create a user; prints it as JSON
  token <userId|email> [--expires 7d]     print a JWT for a user
  replay <folder> [--speed N] [--url U] [--mode all|daily|heartrate]
         [--participants ID,ID] [--limit N]
                                          post the Fitbit data set through /api/events/emit
  import <folder> [--participants ID,ID]  load the Fitbit data set into the database
  analytics [--url U] [--users ID,ID]     compute analytics and send what changed
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;

  switch (command) {
    case 'serve':
      return serve();
    case 'user':
      return userCommand(rest);
    case 'token':
      return tokenCommand(rest);
    case 'replay':
      return replay(rest);
    case 'import':
      return importCommand(rest);
    case 'analytics':
      return analyticsCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      print(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function userCommand(args: string[]): Promise<void> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'add') throw new UsageError('expected "pulse user add --email …"');

  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      password: { type: 'string' },
    },
  });
  if (!values.email) throw new UsageError('--email is required');

  await addUser({ email: values.email, name: values.name, password: values.password });
}

async function tokenCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { expires: { type: 'string', default: DEFAULT_TOKEN_LIFETIME } },
  });
  const [who] = positionals;
  if (!who) throw new UsageError('expected "pulse token <userId|email>"');

  await printToken(who, values.expires);
}

/** A mistake in how the command was called. */
export class UsageError extends Error {}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    printError(`pulse: ${error.message}\n\n${USAGE}`);
  } else if (error instanceof ConfigError) {
    printError(`pulse: invalid configuration: ${error.message}`);
  } else if (error instanceof PulseError) {
    printError(`pulse: ${error.code}: ${error.message}`);
  } else {
    printError(`pulse: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exitCode = 1;
});
