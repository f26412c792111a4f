// What a performer does to a feature before it moves anything: gain, a gate (below it the feature
// reads 0) and an attack / release envelope, a one-pole that rises with `attack` seconds and falls
// with `release`. Advanced per frame by the frame's dt, so the same frame times give the same
// values live and offline.

export interface Shape {
  gain: number;
  gate: number;
  /** Seconds; 0 = jump. */
  attack: number;
  release: number;
}

export class Shaper {
  value = 0;

  /** One frame: the raw feature in, the shaped value out. */
  step(raw: number, s: Shape, dt: number): number {
    let x = raw * s.gain;
    if (!(x >= s.gate)) x = 0;
    const tau = x > this.value ? s.attack : s.release;
    // No envelope: the value itself (v + (x - v) is not always x in floating point).
    if (!(tau > 0)) return (this.value = x);
    this.value += (x - this.value) * (1 - Math.exp(-Math.max(0, dt) / tau));
    return this.value;
  }

  reset(): void {
    this.value = 0;
  }
}
