/**
 * Progress of long work on stderr: a bar redrawn in place on a terminal, a plain
 * line every few seconds otherwise (CI logs, files).
 */
export interface ProgressLine {
  update(fraction: number, detail: string): void;
  /** Ends the bar with a last line. */
  done(message: string): void;
}

const plainEveryMs = 5_000;

export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  const terminal = stream.isTTY;
  let lastPlain = 0;
  return {
    update(fraction, detail) {
      const percent = `${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(1)}%`;
      if (terminal) {
        const width = 30;
        const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
        stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent.padStart(6)} ${detail}\x1b[K`);
      } else if (Date.now() - lastPlain >= plainEveryMs) {
        lastPlain = Date.now();
        stream.write(`${percent} ${detail}\n`);
      }
    },
    done(message) {
      stream.write(`${terminal ? '\r\x1b[K' : ''}${message}\n`);
    },
  };
}
