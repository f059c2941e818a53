/** Every Redis key Pulse uses, in one place, under one prefix. */
export const redisKeys = {
  lastId: 'pulse:last-id',
  epoch: 'pulse:epoch',
  events: 'pulse:events',
  instances: 'pulse:instances',
  history: (userId: string) => `pulse:history:${userId}`,
  floor: (userId: string) => `pulse:floor:${userId}`,
  idempotency: (userId: string, key: string) => `pulse:key:${userId}:${key}`,
  presence: (instanceId: string) => `pulse:presence:${instanceId}`,
  rate: (scope: string, window: number) => `pulse:rate:${scope}:${window}`,
  ticket: (ticket: string) => `pulse:ticket:${ticket}`,
  ticketsHeld: (userId: string) => `pulse:tickets-held:${userId}`,
} as const;
