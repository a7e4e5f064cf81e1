/**
 * Cleanup on Ctrl-C (or SIGTERM) while the peer runs. The bench's PostgreSQL runs in a
 * process group of its own, so the terminal's SIGINT does not stop it, and its folder
 * under /tmp would stay: what is registered here runs first, last registered first,
 * then the bench exits as the signal would have ended it.
 */
type Cleanup = () => Promise<void>;

const cleanups: Cleanup[] = [];

function interrupted(signal: NodeJS.Signals): void {
  void (async () => {
    for (const cleanup of [...cleanups].reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`cleanup after ${signal} failed: ${(error as Error).message}`);
      }
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  })();
}

/** Runs `cleanup` if the bench is interrupted before the returned function is called. */
export function onInterrupt(cleanup: Cleanup): () => void {
  // Listening only while something is registered: Strata's variants keep Node's default.
  if (cleanups.length === 0) {
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
  }
  cleanups.push(cleanup);
  return () => {
    const at = cleanups.indexOf(cleanup);
    if (at >= 0) cleanups.splice(at, 1);
    if (cleanups.length === 0) {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    }
  };
}
