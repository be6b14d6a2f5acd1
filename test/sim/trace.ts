// The event trace of one run. Off during sweeps (formatting every event would dominate the run
// time); on when a seed is replayed, where it prints one line per event as it happens.

export class Trace {
  readonly enabled: boolean;
  private readonly sink: (line: string) => void;
  private tick = 0;

  constructor(enabled: boolean, sink: (line: string) => void = (line) => console.log(line)) {
    this.enabled = enabled;
    this.sink = sink;
  }

  setTick(tick: number): void {
    this.tick = tick;
  }

  /** Callers guard with `if (trace.enabled)` so disabled traces cost no string building. */
  log(text: string): void {
    if (this.enabled) this.sink(`${String(this.tick).padStart(6)} ${text}`);
  }
}
