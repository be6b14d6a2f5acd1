// A progress bar on stderr for long namespace exports and imports — only for a person watching
// (stderr is a terminal) and never with --json, so scripts and logs stay clean.
import cliProgress from "cli-progress";
import type { Io } from "./io.ts";

export interface Progress {
  start(total: number, unit: string): void;
  update(done: number, total?: number, unit?: string): void;
  stop(): void;
}

const silent: Progress = { start() {}, update() {}, stop() {} };

export function progressFor(io: Io, json: boolean): Progress {
  if (json || !io.stderr.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      format: " {bar} {percentage}% | {value}/{total} {unit}",
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, unit) => bar.start(total, 0, { unit }),
    update: (done, total, unit) => {
      if (total !== undefined) bar.setTotal(total);
      bar.update(done, unit === undefined ? undefined : { unit });
    },
    stop: () => bar.stop(),
  };
}
