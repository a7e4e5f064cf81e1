/**
 * Availability as a client sees it: the times commands were acknowledged, and the
 * longest stretch of a window in which none was.
 */
export interface AckClock {
  /** Notes an acknowledgement now. */
  ack(): void;
  /** The longest stretch (ms) with no acknowledgement between `from` and `to`. */
  longestSilenceMs(from: number, to: number): number;
  /** Acknowledgements in each whole second from `from`, `seconds` of them. */
  perSecond(from: number, seconds: number): number[];
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
    perSecond(from, seconds) {
      const counts = new Array<number>(seconds).fill(0);
      for (const time of times) {
        const second = Math.floor((time - from) / 1000);
        if (second >= 0 && second < seconds) counts[second] = (counts[second] ?? 0) + 1;
      }
      return counts;
    },
  };
}
