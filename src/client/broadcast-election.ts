import type { Election, ElectionCallbacks } from './tab-election.js';

/** Timings of the BroadcastChannel election, in milliseconds. */
export interface BroadcastElectionTimings {
  /** How often the leader says it is alive. Default 1000. */
  heartbeatMs?: number;
  /** Silence after which a follower claims the lead. Default 3 heartbeats. */
  silenceMs?: number;
  /** How long a claim waits for objections. Default half a heartbeat. */
  claimWindowMs?: number;
}

type ElectionMessage =
  | { kind: 'alive'; tabId: string }
  | { kind: 'claim'; tabId: string }
  | { kind: 'resign'; tabId: string };

/**
 * Leader election over a BroadcastChannel, for browsers without Web Locks. The leader says
 * it is alive every heartbeat; a tab that hears nothing for `silenceMs` claims the lead and
 * takes it unless, within the claim window, a leader speaks or a tab with a smaller id claims
 * too. Two leaders that hear each other settle it the same way: the larger id steps down. A
 * leader whose page is hidden for good resigns, so the others need not wait out the silence.
 */
export function electWithBroadcast(
  name: string,
  callbacks: ElectionCallbacks,
  timings: BroadcastElectionTimings = {},
): Election {
  const heartbeatMs = timings.heartbeatMs ?? 1000;
  const silenceMs = timings.silenceMs ?? heartbeatMs * 3;
  const claimWindowMs = timings.claimWindowMs ?? heartbeatMs / 2;
  const tabId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const channel = new BroadcastChannel(`${name}:election`);
  let leading = false;
  let claiming = false;
  let lastHeardAt = Date.now();
  let resigned = false;

  const post = (kind: ElectionMessage['kind']) => channel.postMessage({ kind, tabId });
  const lead = () => {
    leading = true;
    post('alive');
    callbacks.elected();
  };
  const stepDown = () => {
    leading = false;
    callbacks.deposed();
  };
  const claim = () => {
    claiming = true;
    post('claim');
    setTimeout(() => {
      if (resigned || !claiming) return;
      claiming = false;
      lead();
    }, claimWindowMs);
  };

  channel.onmessage = (event: MessageEvent<ElectionMessage>) => {
    const message = event.data;
    if (resigned || message.tabId === tabId) return;

    if (message.kind === 'resign') {
      lastHeardAt = 0;
      if (!leading && !claiming) claim();
      return;
    }
    lastHeardAt = Date.now();
    if (claiming && (message.kind === 'alive' || message.tabId < tabId)) claiming = false;
    if (!leading) return;
    // A claim comes from a tab that missed this leader: answer it. Another leader: settle it.
    if (message.kind === 'claim') post('alive');
    else if (message.tabId < tabId) stepDown();
  };

  const ticker = setInterval(() => {
    if (leading) post('alive');
    else if (!claiming && Date.now() - lastHeardAt > silenceMs) claim();
  }, heartbeatMs);
  const onPageHide = (event: { persisted?: boolean }) => {
    if (!event.persisted) election.resign();
  };
  globalThis.addEventListener?.('pagehide', onPageHide);

  const election: Election = {
    resign() {
      if (resigned) return;
      if (leading) post('resign');
      resigned = true;
      leading = false;
      clearInterval(ticker);
      globalThis.removeEventListener?.('pagehide', onPageHide);
      channel.close();
    },
  };
  // A tab that opens while a leader is alive hears it within a heartbeat; claim after that.
  setTimeout(() => {
    if (!resigned && !leading && !claiming && Date.now() - lastHeardAt >= heartbeatMs) claim();
  }, heartbeatMs * 1.5);

  return election;
}
