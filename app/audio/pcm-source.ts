// Where the analyser reads samples from: mono float32 at one rate, addressed by absolute sample
// index (sample 0 is show time 0). A decoded file holds them all (offline); a ring holds the last
// few seconds of a stream pushed in blocks (live). Both answer "the n samples ending at sample e",
// with zeros for samples they do not hold, so the analyser cannot tell them apart.

/** The one rate netbend analyses at: files are resampled to it by ffmpeg. */
export const AUDIO_RATE = 48_000;

export interface PcmSource {
  readonly rate: number;
  /** Samples [first, end) are held; index end is the next one to arrive. */
  readonly first: number;
  readonly end: number;
  /** Fills `out` with samples [end - out.length, end): zeros where none is held. */
  read(end: number, out: Float64Array): void;
}

/** A whole track in memory (a decoded file). */
export class PcmBuffer implements PcmSource {
  readonly first = 0;
  constructor(
    readonly samples: Float32Array,
    readonly rate: number = AUDIO_RATE,
  ) {}

  get end(): number {
    return this.samples.length;
  }

  /** Length in seconds. */
  get seconds(): number {
    return this.samples.length / this.rate;
  }

  read(end: number, out: Float64Array): void {
    const start = end - out.length;
    const s = this.samples;
    if (start >= 0 && end <= s.length) return out.set(s.subarray(start, end));
    for (let i = 0; i < out.length; i++) {
      const j = start + i;
      out[i] = j >= 0 && j < s.length ? s[j]! : 0;
    }
  }
}

/** The last `capacity` samples of a stream pushed in blocks, each stamped with its first sample's index. */
export class PcmRing implements PcmSource {
  private readonly data: Float32Array;
  private head = 0;

  constructor(
    readonly capacity: number,
    readonly rate: number = AUDIO_RATE,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a whole number of samples >= 1, got ${capacity}`);
    this.data = new Float32Array(capacity);
  }

  get end(): number {
    return this.head;
  }

  get first(): number {
    return Math.max(0, this.head - this.capacity);
  }

  /**
   * Appends a block whose first sample is `at` (default: right after the last one). A gap (a
   * dropped block) is filled with silence; a block that overlaps what is held overwrites it.
   */
  push(block: Float32Array, at = this.head): void {
    if (!Number.isInteger(at) || at < 0) throw new RangeError(`block start must be a sample index >= 0, got ${at}`);
    const cap = this.capacity;
    const head = Math.max(this.head, at + block.length);
    const first = Math.max(0, head - cap);
    for (let j = Math.max(this.head, first); j < at; j++) this.data[j % cap] = 0;
    for (let i = Math.max(0, first - at); i < block.length; i++) this.data[(at + i) % cap] = block[i]!;
    this.head = head;
  }

  read(end: number, out: Float64Array): void {
    const start = end - out.length;
    const lo = this.first;
    const hi = this.head;
    const cap = this.capacity;
    for (let i = 0; i < out.length; i++) {
      const j = start + i;
      out[i] = j >= lo && j < hi ? this.data[j % cap]! : 0;
    }
  }
}
