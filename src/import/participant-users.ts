import { randomBytes } from 'node:crypto';
import { hashPassword } from '../auth/passwords.js';
import { PulseError } from '../errors.js';
import { participantEmail, participantName } from '../replay/replay.js';
import type { User, UserStore } from '../store/user-store.js';

/**
 * Finds or creates the user of a data set participant, with the same email as the replay
 * gives them, so a replay and an import land in the same account. A new user gets a random
 * password nobody knows; they sign in with a token from `pulse token`.
 */
export async function ensureParticipantUser(
  store: UserStore,
  participantId: string,
): Promise<User> {
  const email = participantEmail(participantId);
  const existing = await store.findByEmail(email);
  if (existing) return existing;

  const passwordHash = await hashPassword(randomBytes(32).toString('base64url'));
  try {
    return await store.createUser({ email, name: participantName(participantId), passwordHash });
  } catch (error) {
    // Lost a race with another importer for the same participant: use the winner.
    const winner = error instanceof PulseError ? await store.findByEmail(email) : undefined;
    if (!winner) throw error;
    return winner;
  }
}
