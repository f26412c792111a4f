// The one binary message a page sends on /ws: a block of its audio capture, mono float32 at
// AUDIO_RATE (48 kHz), stamped with the index of its first sample in the page's own stream (0 when
// the capture started). 16 header bytes, little-endian, then the samples; the header keeps the
// floats 4-byte aligned so the page can write them through a Float32Array view.
//
//   byte 0      kind   0xA1 (audio PCM block)
//   byte 1      version 1
//   bytes 2-3   u16    sample count n, 1..PCM_MAX_SAMPLES
//   bytes 4-11  f64    first sample's index in the page's stream (a whole number >= 0)
//   bytes 12-15 f32    the page's own latency in ms: capture + buffering before the send + half the
//                      command round trip (0..PCM_MAX_LATENCY_MS)
//   bytes 16..  f32 x n samples, each finite and within +-PCM_MAX_ABS
//
// A message is exactly 16 + 4n bytes; anything else is refused whole.

export const PCM_KIND = 0xa1;
export const PCM_VERSION = 1;
export const PCM_HEADER_BYTES = 16;
/** 8192 samples is 171 ms at 48 kHz: more than any capture buffers between two sends. */
export const PCM_MAX_SAMPLES = 8192;
export const PCM_MAX_LATENCY_MS = 10_000;
/** Samples past this are no sound any input makes (full scale is 1): refused, not clipped. */
export const PCM_MAX_ABS = 16;

export interface PcmFrame {
  /** The first sample's index in the page's stream. */
  index: number;
  latencyMs: number;
  samples: Float32Array;
}

/** One block as the bytes to send. */
export function encodePcmFrame(index: number, samples: Float32Array, latencyMs = 0): ArrayBuffer {
  const buf = new ArrayBuffer(PCM_HEADER_BYTES + samples.length * 4);
  const v = new DataView(buf);
  v.setUint8(0, PCM_KIND);
  v.setUint8(1, PCM_VERSION);
  v.setUint16(2, samples.length, true);
  v.setFloat64(4, index, true);
  v.setFloat32(12, latencyMs, true);
  for (let i = 0; i < samples.length; i++) v.setFloat32(PCM_HEADER_BYTES + i * 4, samples[i]!, true);
  return buf;
}

/** How many samples a message says it holds (before checking anything else); 0 when it is too short to say. */
export const pcmFrameCount = (bytes: Uint8Array): number => (bytes.byteLength < 4 ? 0 : bytes[2]! | (bytes[3]! << 8));

/** The block in `bytes`, or a short reason it is refused. */
export function decodePcmFrame(bytes: Uint8Array): PcmFrame | string {
  if (bytes.byteLength < PCM_HEADER_BYTES) return `shorter than its ${PCM_HEADER_BYTES}-byte header (${bytes.byteLength} bytes)`;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint8(0) !== PCM_KIND) return `kind 0x${v.getUint8(0).toString(16)}, expected 0x${PCM_KIND.toString(16)} (audio)`;
  if (v.getUint8(1) !== PCM_VERSION) return `version ${v.getUint8(1)}, expected ${PCM_VERSION}`;
  const n = v.getUint16(2, true);
  if (n < 1 || n > PCM_MAX_SAMPLES) return `${n} samples, expected 1..${PCM_MAX_SAMPLES}`;
  if (bytes.byteLength !== PCM_HEADER_BYTES + n * 4) return `${bytes.byteLength} bytes for ${n} samples, expected ${PCM_HEADER_BYTES + n * 4}`;
  const index = v.getFloat64(4, true);
  if (!Number.isSafeInteger(index) || index < 0) return `first sample index ${index}, expected a whole number >= 0`;
  const latencyMs = v.getFloat32(12, true);
  if (!(latencyMs >= 0 && latencyMs <= PCM_MAX_LATENCY_MS)) return `latency ${latencyMs} ms, expected 0..${PCM_MAX_LATENCY_MS}`;
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = v.getFloat32(PCM_HEADER_BYTES + i * 4, true);
    if (!(Math.abs(s) <= PCM_MAX_ABS)) return `sample ${i} is ${s}, expected a finite number within +-${PCM_MAX_ABS}`;
    samples[i] = s;
  }
  return { index, latencyMs, samples };
}
