/**
 * How the stack tells an operator what it is doing. The CLI prints to stderr, so
 * that `--json` output on stdout stays pure data.
 */
export interface Reporter {
  /** A step of the work: "starting kafka". */
  step: (message: string) => void;
  /** A line of a tool's own output (Maven's downloads, apt-get). */
  detail: (line: string) => void;
}

export function streamReporter(stream: NodeJS.WritableStream): Reporter {
  return {
    step: (message) => stream.write(`• ${message}\n`),
    detail: (line) => stream.write(`    ${line}\n`),
  };
}
