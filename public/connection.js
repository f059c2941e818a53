// Shows the stream's connection state, with a countdown while the client SDK waits to
// reconnect and a retry button once it has given up.

const LABELS = {
  NOT_INITIALIZED: 'Not connected',
  CONNECTING: 'Connecting…',
  CONNECTED: 'Live',
  DISCONNECTED: 'Connection lost',
  RECONNECTING: 'Reconnecting',
  ERROR: 'Connection failed',
};

// The SDK's documented backoff: 1, 2, 4, 8, 16, then 32 seconds, each moved by up to 20 %.
// It does not say when its next attempt is due, so the countdown follows the same schedule
// and reads "about".
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 32_000;

/** The connection badge in the top bar. */
export class ConnectionBadge {
  #root;
  #text;
  #retry;
  #timer;
  #attempt = 0;
  #dueAt = 0;

  constructor(root, text, retry, onRetry) {
    this.#root = root;
    this.#text = text;
    this.#retry = retry;
    retry.addEventListener('click', () => onRetry());
  }

  /** Shows a ConnectionState of the client SDK. */
  show(state) {
    this.#root.dataset.state = state;
    this.#retry.hidden = state !== 'ERROR';
    clearInterval(this.#timer);
    if (state !== 'RECONNECTING') {
      if (state === 'CONNECTED') this.#attempt = 0;
      this.#text.textContent = LABELS[state] ?? state;
      return;
    }

    this.#scheduleNext();
    this.#timer = setInterval(() => this.#tick(), 250);
    this.#tick();
  }

  #scheduleNext() {
    this.#attempt += 1;
    const delay = Math.min(FIRST_DELAY_MS * 2 ** (this.#attempt - 1), MAX_DELAY_MS);
    this.#dueAt = Date.now() + delay;
  }

  // Past the due time the attempt is under way; if the state is still RECONNECTING a moment
  // later, it failed and the next wait has begun.
  #tick() {
    const left = this.#dueAt - Date.now();
    if (left < -500) this.#scheduleNext();
    const seconds = Math.max(0, Math.ceil((this.#dueAt - Date.now()) / 1000));
    this.#text.textContent =
      seconds > 0 ? `Reconnecting in about ${seconds} s` : 'Reconnecting now…';
  }
}
