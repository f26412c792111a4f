// Messages between the engine (main thread) and the inference worker. The worker owns the
// onnxruntime session, so loading a model or a partner never blocks the frame loop or the servers.
import type { ImageLayout } from '../onnx/rewrite.ts';
import type { WeightRecipe } from '../bend/weight-bender.ts';

export type EpName = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';
export type EpChoice = EpName | 'auto';
export const EP_CHOICES: readonly EpChoice[] = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml', 'auto'];

export type ValueRange = '-1..1' | '0..1' | '0..255';

export interface TensorMsg {
  data: Float32Array;
  dims: number[];
}

export interface LoadRequest {
  kind: 'load';
  file: string;
  ep: EpChoice;
  image: ImageLayout | undefined;
  /** Tensors exposed as extra outputs, fetched only on the frames that ask for them. */
  taps: string[];
  /** Weights fed per run instead of baked in, so they can be bent without a new session. */
  liveWeights: string[];
  partnerFile: string | undefined;
  /** Inputs of the first frame: a warm-up run also detects the image's value range. */
  warmup: Record<string, TensorMsg>;
}

export interface LoadReply {
  ep: EpName;
  warnings: string[];
  range: ValueRange | undefined;
  outputs: string[];
}

export interface RunRequest {
  kind: 'run';
  feeds: Record<string, TensorMsg>;
  fetch: string[];
  range: ValueRange | undefined;
  /** Per live weight, what it should be; absent weights are fed as their originals. */
  recipes: Record<string, WeightRecipe> | undefined;
}

export interface RunReply {
  rgba: Uint8Array | undefined;
  tensors: Record<string, TensorMsg>;
  inferMs: number;
  bendMs: number;
}

export interface PartnerReply {
  mismatches: string[];
}

export type Request = LoadRequest | RunRequest | { kind: 'partner'; file: string | undefined; names: string[] } | { kind: 'dispose' };

export const RANGE_TRANSFORM: Record<ValueRange, { scale: number; bias: number }> = {
  '-1..1': { scale: 127.5, bias: 128 },
  '0..1': { scale: 255, bias: 0.5 },
  '0..255': { scale: 1, bias: 0.5 },
};
