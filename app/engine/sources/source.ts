// What every input source is: a typed params object and one hot method that fills a preallocated
// buffer in place every frame, allocating nothing.
export interface SourceFrameTime {
  time: number;
  frame: number;
}

export interface InputSource<P> {
  readonly kind: string;
  readonly shape: readonly number[];
  params: P;
  fill(out: Float32Array, t: SourceFrameTime): void;
  /** Sources with events (a keyframe loop): the keyframe the last fill arrived at, once, or -1. */
  pulse?(): number;
}
