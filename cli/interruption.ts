/**
 * Ctrl-C and SIGTERM for a command that stops where it is when asked (a tail, a replay),
 * as opposed to `strata start`, which shuts down what it started.
 */

/** Runs `run` with a signal that Ctrl-C or SIGTERM aborts; the signals are listened to only while it runs. */
export async function untilInterrupted<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const interrupt = () => { abort.abort(); };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    return await run(abort.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
