// A seeded PRNG (mulberry32): the core must be deterministic under simulation, so election
// jitter comes from `config.seed`, never from Math.random.

export class Rand {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, bound). */
  intBelow(bound: number): number {
    if (bound <= 1) return 0;
    return Math.floor((this.nextUint32() / 0x1_0000_0000) * bound);
  }
}
