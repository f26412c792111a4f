// Mono PCM as a 16-bit WAV file: what a page's <audio> element plays of the show's track (the very
// samples the analyser reads, so every browser plays them), and what a take keeps of its sound.
import { AUDIO_RATE } from './pcm-source.ts';

export const WAV_HEADER_BYTES = 44;

/** The 44-byte header of a mono WAV holding `samples` samples at `rate`: 16-bit PCM, or 32-bit float (`float`). */
export function wavHeader(samples: number, rate = AUDIO_RATE, float = false): Buffer {
  const bytes = float ? 4 : 2;
  const data = samples * bytes;
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(float ? 3 : 1, 20); // IEEE float or PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * bytes, 28);
  h.writeUInt16LE(bytes, 32);
  h.writeUInt16LE(bytes * 8, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data, 40);
  return h;
}

/** Samples as 16-bit little-endian, clipped to full scale. */
export function pcm16(samples: Float32Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), i * 2);
  return out;
}

export function encodeWav(samples: Float32Array, rate = AUDIO_RATE): Buffer {
  return Buffer.concat([wavHeader(samples.length, rate), pcm16(samples)]);
}

/** Samples as 32-bit float little-endian: exactly what the analyser read. */
export function f32(samples: Float32Array): Buffer {
  return Buffer.from(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
}
