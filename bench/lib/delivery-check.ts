/** Lost, duplicated and unexpected deliveries over a set of streams. */
export interface DeliveryTally {
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  unexpected: number;
}

/** A stream as the check sees it: whose it is, and the keys it received. */
export interface ReceivedKeys {
  readonly userIndex: number;
  readonly keys: readonly number[];
}

/**
 * Checks exactly what each stream received against every event emitted to its user while it
 * was open: each expected key must arrive once. `delivered` counts expected keys that arrived.
 */
export function checkDeliveries(
  streams: Iterable<ReceivedKeys>,
  userIndexes: Int32Array,
  keys: Float64Array,
): DeliveryTally {
  const expectedByUser = new Map<number, number[]>();
  for (let event = 0; event < userIndexes.length; event += 1) {
    const user = userIndexes[event] ?? -1;
    let list = expectedByUser.get(user);
    if (!list) {
      list = [];
      expectedByUser.set(user, list);
    }
    list.push(keys[event] ?? Number.NaN);
  }

  const tally: DeliveryTally = { expected: 0, delivered: 0, lost: 0, duplicated: 0, unexpected: 0 };
  for (const stream of streams) {
    tallyStream(tally, expectedByUser.get(stream.userIndex) ?? [], stream.keys);
  }

  return tally;
}

function tallyStream(tally: DeliveryTally, expected: number[], received: readonly number[]): void {
  const counts = new Map<number, number>();
  for (const key of received) counts.set(key, (counts.get(key) ?? 0) + 1);

  tally.expected += expected.length;
  for (const key of expected) {
    const count = counts.get(key) ?? 0;
    if (count === 0) tally.lost += 1;
    else {
      tally.delivered += 1;
      tally.duplicated += count - 1;
    }
    counts.delete(key);
  }
  for (const count of counts.values()) tally.unexpected += count;
}
