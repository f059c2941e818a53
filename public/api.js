// Calls Pulse's JSON API with the signed-in user's token. Errors carry Pulse's stable code.

const TOKEN_KEY = 'pulse.token';

/** An answer that was not a success: `code` is Pulse's error code. */
export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** The token of this tab's session; sessionStorage keeps it across reloads of the tab only. */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keeps (or, given null, forgets) the session's token. */
export function storeToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Takes a token handed over in the address's fragment (`/#token=…`, as the README's quick
 * start does for imported participants) and removes it from the address bar and history.
 */
export function takeTokenFromAddress() {
  const match = /^#token=([\w.-]+)$/.exec(location.hash);
  if (!match) return;

  storeToken(match[1]);
  history.replaceState(null, '', location.pathname + location.search);
}

/** Sends a request and answers the parsed body, or throws ApiError. */
export async function request(method, path, body) {
  const headers = {};
  const token = storedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';

  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || answer.success === false) {
    const message = answer.message ?? `The server answered ${response.status}`;
    throw new ApiError(message, answer.code ?? 'HTTP_ERROR', response.status);
  }

  return answer;
}
