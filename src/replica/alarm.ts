// The replica's only timer: the Durable Object alarm, armed one tick ahead while the core needs
// ticks and deleted once the group sleeps. No setTimeout loop: a timer loop would pin the object
// in memory and die with it on eviction, while an alarm survives eviction and wakes the object.
export class AlarmClock {
  /** When the alarm is set to fire; null: not set; undefined: unknown (a freshly loaded object). */
  #armedAtMs: number | null | undefined = undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly tickMs: number,
  ) {}

  /**
   * After each round of work: keep the next tick scheduled exactly while ticks are needed, and
   * otherwise the alarm at `wakeAtMs` (a lease's expiry on the leader) or none.
   */
  update(needsTicks: boolean, wakeAtMs: number | null = null): void {
    const wantMs = needsTicks ? Date.now() + this.tickMs : wakeAtMs;
    const armed = this.#armedAtMs;
    if (wantMs === null) {
      if (armed === null) return;
      this.#armedAtMs = null;
      this.storage
        .deleteAlarm()
        .catch((error: unknown) => console.error("deleteAlarm failed", error));
    } else if (armed === null || armed === undefined || armed > wantMs) {
      // An alarm already due sooner stays: when it fires, the next round arms the later one.
      this.#arm(wantMs);
    }
  }

  /**
   * While no tick is needed: the alarm moves to `wakeAtMs` even when that is later (a lease was
   * renewed), so it does not fire early for nothing.
   */
  postpone(wakeAtMs: number | null): void {
    if (wakeAtMs === null || this.#armedAtMs === wakeAtMs) return;
    this.#arm(wakeAtMs);
  }

  /** The alarm that is running now is consumed: the platform cleared it before calling alarm(). */
  fired(): void {
    this.#armedAtMs = null;
  }

  get armedAtMs(): number | null | undefined {
    return this.#armedAtMs;
  }

  #arm(atMs: number): void {
    this.#armedAtMs = atMs;
    // Not awaited: the output gate holds this object's replies until the write is durable.
    this.storage.setAlarm(atMs).catch((error: unknown) => {
      console.error("setAlarm failed", error);
      this.#armedAtMs = undefined;
    });
  }
}
