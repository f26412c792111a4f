import type { TensorMsg } from './inference/protocol.ts';

/**
 * Free bytes in front of every frame's pixels, in the same buffer: a sink that frames the picture
 * (a page's packet header) writes there, so the frame goes out without a copy.
 */
export const RGBA_LEAD_BYTES = 16;

export interface FrameStats {
  inferMs: number;
  bendMs: number;
  frameMs: number;
  /** Frames so far (this engine) with a NaN or Inf in the picture, a tap or an output (a broken picture is replaced by the last good one). */
  nonFinite: number;
}

/** One rendered frame: the picture, the tapped layers and the numeric outputs, with timings. */
export interface Frame {
  index: number;
  time: number;
  width: number;
  height: number;
  /** RGBA8, width * height * 4 bytes, RGBA_LEAD_BYTES into its buffer; absent for models without an image output. */
  rgba: Uint8Array | undefined;
  /** Tapped layers by layer path, Float32 with the tensor's own shape. */
  taps: Record<string, TensorMsg>;
  /** Numeric (non-image) outputs by output name. */
  values: Record<string, number[]>;
  stats: FrameStats;
  /** A paused show's preview of a change: the held moment rendered again (no new slot). */
  preview?: true;
}
