/** Decides which event types a stream receives. */
export type EventFilter = (type: string) => boolean;

/** Types every stream receives whatever its filter: they drive the connection itself. */
export const CONTROL_EVENT_TYPES = new Set([
  'connected',
  'heartbeat',
  'sync:required',
  'auth:expiring',
  'auth:expired',
]);

/** Most patterns one `?events=` may list. */
export const MAX_FILTER_PATTERNS = 32;

const PATTERN = /^[A-Za-z0-9:_.-]{1,64}(\*)?$/;

/** Accepts every type. */
export const acceptAll: EventFilter = () => true;

/**
 * Parses `?events=metrics:updated,analytics:*`: exact types, or prefixes ending in `*`.
 * Returns an error message for a list that is empty, too long or has a malformed pattern.
 */
export function parseEventFilter(text: string | undefined): EventFilter | string {
  if (text === undefined) return acceptAll;

  const patterns = text.split(',').map((part) => part.trim());
  if (patterns.length > MAX_FILTER_PATTERNS) {
    return `events may list at most ${MAX_FILTER_PATTERNS} types`;
  }
  const bad = patterns.find((pattern) => !PATTERN.test(pattern) && pattern !== '*');
  if (bad !== undefined) return `events has a malformed type pattern "${bad}"`;
  if (patterns.includes('*')) return acceptAll;

  const exact = new Set(patterns.filter((pattern) => !pattern.endsWith('*')));
  const prefixes = patterns.filter((pattern) => pattern.endsWith('*')).map((p) => p.slice(0, -1));

  return (type) =>
    CONTROL_EVENT_TYPES.has(type) ||
    exact.has(type) ||
    prefixes.some((prefix) => type.startsWith(prefix));
}
