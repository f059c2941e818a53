/** Security requirement of routes that take a user's JWT. */
export const USER_AUTH = [{ userToken: [] }];

/** Security requirement of routes that take the service token. */
export const SERVICE_AUTH = [{ serviceToken: [] }];

/** Documentation-only schema parts: what the OpenAPI document says about a route. */
export function describedAs(
  summary: string,
  security?: typeof USER_AUTH,
): { summary: string; security?: typeof USER_AUTH } {
  return security ? { summary, security } : { summary };
}
