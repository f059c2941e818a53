import { randomBytes } from 'node:crypto';

/** User ids keep the original application's format: a 24-character lowercase hex ObjectId. */
export const USER_ID_PATTERN = /^[0-9a-f]{24}$/;

// An ObjectId is 4 bytes of seconds since the epoch, 5 random bytes fixed per process and a
// 3-byte counter that starts at a random value; ids made in one second sort by creation.
const processRandom = randomBytes(5);
let counter = randomBytes(3).readUIntBE(0, 3);

/** Makes a new, unique user id. */
export function newUserId(now: number = Date.now()): string {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(now / 1000) >>> 0, 0);
  processRandom.copy(bytes, 4);

  counter = (counter + 1) % 0x1000000;
  bytes.writeUIntBE(counter, 9, 3);

  return bytes.toString('hex');
}

/** Tells whether a value is a well-formed user id. */
export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}
