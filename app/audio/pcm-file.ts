// Any file ffmpeg reads (wav, mp3, flac, ogg, the sound of a video) decoded by the system ffmpeg
// to mono float32 at AUDIO_RATE: `-f f32le -ac 1 -ar 48000 pipe:1`, read as it streams. A missing
// file, a file that is not sound, and a file with no samples are each said in one line.
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { StderrTail, defaultFfmpegPath, notFoundError } from '../record/ffmpeg.ts';
import { killOnExit } from '../record/kill-on-exit.ts';
import { AudioError } from './audio-error.ts';
import { AUDIO_RATE, PcmBuffer } from './pcm-source.ts';

export { AudioError, type AudioErrorCode } from './audio-error.ts';

export interface DecodeOptions {
  ffmpegPath?: string;
  rate?: number;
}

/** Growing storage for the decoded stream: doubles, so a long track costs O(n) copies in all. */
class Growing {
  private data = new Float32Array(AUDIO_RATE * 8);
  length = 0;
  /** Bytes of a sample split across two chunks. */
  private carry = Buffer.alloc(0);

  push(chunk: Buffer): void {
    const bytes = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const whole = bytes.length - (bytes.length % 4);
    const n = whole / 4;
    if (this.length + n > this.data.length) {
      const next = new Float32Array(Math.max(this.data.length * 2, this.length + n));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    // f32le into float32 storage: a byte copy on little-endian hosts (every platform Node ships for).
    new Uint8Array(this.data.buffer, this.length * 4, whole).set(bytes.subarray(0, whole));
    this.length += n;
    this.carry = Buffer.from(bytes.subarray(whole));
  }

  take(): Float32Array {
    return this.data.slice(0, this.length);
  }
}

/** Decodes `file`'s first audio stream; rejects with an AudioError (or FFMPEG_NOT_FOUND) naming the file. */
export async function decodePcm(file: string, o: DecodeOptions = {}): Promise<PcmBuffer> {
  const rate = o.rate ?? AUDIO_RATE;
  const info = await stat(file).catch(() => null);
  if (!info) throw new AudioError('NOT_FOUND', `${file}: no such audio file`);
  if (!info.isFile()) throw new AudioError('NOT_AUDIO', `${file}: not a file`);
  const bin = o.ffmpegPath ?? defaultFfmpegPath();
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-map', '0:a:0', '-vn', '-ac', '1', '-ar', String(rate), '-f', 'f32le', 'pipe:1'];
  const samples = new Growing();
  const err = new StderrTail();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const done = child.pid === undefined ? () => {} : killOnExit(child.pid);
    child.stdout.on('data', (c: Buffer) => samples.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      done();
      reject(e.code === 'ENOENT' || e.code === 'EACCES' ? notFoundError('ffmpeg', bin, e) : e);
    });
    child.on('close', (code, signal) => {
      done();
      if (code === 0) return resolve();
      const said = err.lines(4);
      const why = /matches no streams|does not contain any stream/i.test(said) ? 'has no audio stream' : 'is not audio ffmpeg can read';
      reject(new AudioError('NOT_AUDIO', `${file}: ${why} (ffmpeg ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${said.split('\n').at(-1) ?? ''})`));
    });
  });
  const pcm = samples.take();
  if (pcm.length === 0) throw new AudioError('EMPTY', `${file}: holds no audio samples`);
  return new PcmBuffer(pcm, rate);
}
