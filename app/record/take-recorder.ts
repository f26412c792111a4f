// The recorder port of a live show: starts one take's encoder under a name no take has had. On
// stage it is ffmpeg writing to the recordings folder; a test may hand in any other that keeps
// the contract (one Recording per start, every path new).
import { resolve } from 'node:path';
import { nextTakePath } from './take-name.ts';
import { startRecording, type Recording, type RecordFormat } from './video-recorder.ts';

/** What the frames of a take will look like; fixed when the take starts. */
export interface TakeShape {
  width: number;
  height: number;
  fps: number;
}

export interface TakeRecorder {
  /** Starts a take; `onError` is told once if it fails while recording. Rejects if it cannot start. */
  start(shape: TakeShape, onError: (err: Error) => void): Promise<{ path: string; rec: Recording }>;
}

export interface FfmpegTakeOptions {
  /** Folder takes go to (made if missing). */
  dir: string;
  /** Default 'h264'. */
  format?: RecordFormat;
  /** Default $FFMPEG_PATH or `ffmpeg` on PATH. */
  ffmpegPath?: string;
}

export function ffmpegTakes(o: FfmpegTakeOptions): TakeRecorder {
  const format = o.format ?? 'h264';
  const dir = resolve(o.dir);
  return {
    async start(shape, onError) {
      const path = await nextTakePath(dir, format);
      return { path, rec: await startRecording({ path, format, ...shape, ffmpegPath: o.ffmpegPath, onError }) };
    },
  };
}
