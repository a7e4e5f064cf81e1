/**
 * Availability as a client sees it: the times commands were acknowledged, and the
 * longest stretch of a window in which none was.
 */
export interface AckClock {
  /** Notes an acknowledgement now. */
  ack(): void;
  /** The longest stretch (ms) with no acknowledgement between `from` and `to`. */
  longestSilenceMs(from: number, to: number): number;
}

export function ackClock(): AckClock {
  const times: number[] = [];
  return {
    ack: () => times.push(Date.now()),
    longestSilenceMs(from, to) {
      const inside = times.filter((time) => time >= from && time <= to).sort((a, b) => a - b);
      let longest = 0;
      let previous = from;
      for (const time of [...inside, to]) {
        longest = Math.max(longest, time - previous);
        previous = time;
      }
      return longest;
    },
  };
}
