/** `pulse replay` (wired once the replay library lands). */
export async function replay(_args: string[]): Promise<void> {
  throw new Error('replay is not wired yet');
}
