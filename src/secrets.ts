import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ConfigError,
  MIN_JWT_SECRET_LENGTH,
  MIN_SERVICE_TOKEN_LENGTH,
  type Config,
} from './config.js';
import type { ResolvedConfig } from './http/context.js';

/** Name of the file, in the data folder, that holds generated development secrets. */
export const SECRETS_FILE = 'secrets.json';

/** Where the secrets came from, for the start-up log (never the values). */
export interface SecretsOutcome {
  config: ResolvedConfig;
  /** Path of the development secrets file, when one was read or written. */
  file: string | undefined;
  generated: boolean;
}

interface StoredSecrets {
  jwtSecret?: string;
  serviceToken?: string;
}

/**
 * Fills in JWT_SECRET and SERVICE_TOKEN. Production requires both (config already enforced
 * that). Elsewhere a missing one is generated once and kept in `<DATA_DIR>/secrets.json`, so
 * tokens survive restarts and local tools (`pulse token`, `pulse replay`) can find them.
 */
export function resolveSecrets(config: Config): SecretsOutcome {
  if (config.jwtSecret && config.serviceToken) {
    const resolved = { ...config, jwtSecret: config.jwtSecret, serviceToken: config.serviceToken };
    return { config: Object.freeze(resolved), file: undefined, generated: false };
  }

  const file = resolve(config.dataDir, SECRETS_FILE);
  const stored = readStored(file);
  const next: Required<StoredSecrets> = {
    jwtSecret: stored.jwtSecret ?? randomBytes(32).toString('base64url'),
    serviceToken: stored.serviceToken ?? randomBytes(32).toString('base64url'),
  };
  const generated =
    next.jwtSecret !== stored.jwtSecret || next.serviceToken !== stored.serviceToken;
  if (generated) writeStored(file, next);

  const resolved = {
    ...config,
    jwtSecret: config.jwtSecret ?? next.jwtSecret,
    serviceToken: config.serviceToken ?? next.serviceToken,
  };

  return { config: Object.freeze(resolved), file, generated };
}

function readStored(file: string): StoredSecrets {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError('DATA_DIR', `cannot read ${file} (${code ?? 'unknown error'})`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('DATA_DIR', `${file} is not JSON; delete it to generate new secrets`);
  }

  const stored = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as StoredSecrets;
  checkStored(file, 'jwtSecret', stored.jwtSecret, MIN_JWT_SECRET_LENGTH);
  checkStored(file, 'serviceToken', stored.serviceToken, MIN_SERVICE_TOKEN_LENGTH);

  return stored;
}

// A hand-edited secrets file must not slip under the lengths the environment is held to.
function checkStored(file: string, field: string, value: unknown, minLength: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length < minLength) {
    throw new ConfigError('DATA_DIR', `${field} in ${file} must be ${minLength}+ characters`);
  }
}

function writeStored(file: string, secrets: Required<StoredSecrets>): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError('DATA_DIR', `cannot write ${file} (${code})`);
  }
}
