/**
 * The WHATWG event-stream wire format (HTML Living Standard, "Server-sent events", section
 * 9.2.5 "Parsing an event stream"). Frames are built here and nowhere else.
 */

/** Response headers for a stream. `X-Accel-Buffering: no` stops nginx from buffering it. */
export const STREAM_HEADERS = {
  // The format is always UTF-8 (the spec decodes it so), so no charset parameter is needed.
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

/** One event ready for the wire, with the size of its `data:` JSON for payload stats. */
export interface EncodedFrame {
  readonly type: string;
  readonly id: string | undefined;
  /** The id as a number (0 without one), compared on every delivery. */
  readonly order: number;
  /** The UTF-8 bytes of the whole frame, encoded once and shared by every stream. */
  readonly bytes: Buffer;
  readonly dataBytes: number;
}

/**
 * Encodes an event. `json` must be one line: JSON.stringify never emits a raw CR or LF, which
 * are the only line ends the parser knows. An `id:` must not contain a NUL, CR or LF (the
 * parser ignores such ids), which Pulse's own ids never do.
 */
export function encodeFrame(type: string, json: string, id?: string): EncodedFrame {
  const head = id === undefined ? `event: ${type}\ndata: ` : `id: ${id}\nevent: ${type}\ndata: `;
  const bytes = Buffer.from(`${head}${json}\n\n`);

  // Everything around the JSON is ASCII (ids are digits, types are checked), one byte a char.
  const order = id === undefined ? 0 : Number(id);

  return { type, id, order, bytes, dataBytes: bytes.length - head.length - 2 };
}

/** A `retry:` field: the reconnection time, in milliseconds, that EventSource should use. */
export function encodeRetry(milliseconds: number): string {
  return `retry: ${Math.max(0, Math.round(milliseconds))}\n\n`;
}
