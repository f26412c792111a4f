/**
 * What each recording format means to ffmpeg: the encoder it needs, the crash-safe container
 * written while recording (the "partial"), and how the partial becomes the final output at stop().
 *
 * Crash safety: every format writes something that is playable at any moment.
 *  - h264: fragmented MP4 (empty moov + one moof per 1 s GOP). After SIGKILL the file is
 *    readable up to the last complete fragment.
 *  - prores / hap: fragmented MOV, 1 s fragments (all-intra codecs, so any cut point works).
 *  - png: one file per frame, each written atomically by ffmpeg (temp + rename).
 * At stop() MP4/MOV are remuxed (-c copy, a few hundred MB/s) to a regular faststart file.
 */
import path from 'node:path';
import { PNG_PATTERN } from './ffmpeg.ts';

export type RecordFormat = 'h264' | 'prores' | 'hap' | 'png';
export const RECORD_FORMATS: readonly RecordFormat[] = ['h264', 'prores', 'hap', 'png'];

export interface FormatPlan {
  format: RecordFormat;
  /** ffmpeg encoder this format needs (checked against `ffmpeg -encoders`). */
  encoder: string;
  /** 'file': MP4/MOV; 'dir': folder of PNG frames. */
  kind: 'file' | 'dir';
  /** Where ffmpeg writes while recording; moved/remuxed onto the final path at stop(). */
  partialPath: string;
  /** ffmpeg muxer used for the remux at stop(), if the format has one. */
  remuxMuxer: 'mp4' | 'mov' | null;
  /** Everything after `-i pipe:0`, output target included. */
  outputArgs: string[];
}

/** A sound track muxed beside the frames (an offline render's --audio), cut to the clip's length. */
export interface AudioTrack {
  path: string;
  seconds: number;
}

/** Name of the sound track a PNG-sequence folder holds beside its frames. */
export const PNG_AUDIO = 'audio.wav';

/** Default file extension per format, used only when the given path has none. */
const EXT: Record<RecordFormat, string> = { h264: '.mp4', prores: '.mov', hap: '.mov', png: '' };

/** `show.mp4` -> `show.partial.mp4`; PNG folder `frames` -> `frames.partial`. */
export function partialPathFor(finalPath: string, format: RecordFormat): string {
  if (format === 'png') return `${finalPath.replace(/[\\/]+$/, '')}.partial`;
  const ext = path.extname(finalPath) || EXT[format];
  const stem = path.extname(finalPath) ? finalPath.slice(0, -ext.length) : finalPath;
  return `${stem}.partial${ext}`;
}

/** RGB -> Y'CbCr with BT.709 coefficients, limited range, tagged so players decode it back the same way. */
function yuv(pixFmt: string, pad: string): string[] {
  return ['-vf', `${pad},scale=out_color_matrix=bt709:out_range=tv,format=${pixFmt}`, '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv'];
}

const PAD_EVEN = 'pad=ceil(iw/2)*2:ceil(ih/2)*2';
const PAD_4 = 'pad=ceil(iw/4)*4:ceil(ih/4)*4';
/** Fragmented MOV/MP4: playable after a crash up to the last fragment written. */
const FRAGMENTED = '+empty_moov+default_base_moof';
/**
 * Hand each finished fragment to the OS at once: without it ffmpeg's 32 KB write buffer can hold
 * the moov and many small fragments (low-detail frames), which a SIGKILL would then lose.
 */
const FLUSH = ['-flush_packets', '1'];

/** An output size other than the frames' own: scaled in ffmpeg (offline renders at `--size`). */
export interface ScaleTo {
  width: number;
  height: number;
}

/**
 * How a sound track goes in, at stop() (beside the video, never into the crash-safe partial):
 * AAC in MP4 (h264), 24-bit PCM in MOV (prores, hap) and in the audio.wav of a PNG folder.
 */
export function audioCodec(format: RecordFormat): { encoder: string; args: string[] } {
  return format === 'h264' ? { encoder: 'aac', args: ['-c:a', 'aac', '-b:a', '192k'] } : { encoder: 'pcm_s24le', args: ['-c:a', 'pcm_s24le'] };
}

export function planFormat(format: RecordFormat, finalPath: string, fps: number, scaleTo?: ScaleTo): FormatPlan {
  const scale = scaleTo ? `scale=${scaleTo.width}:${scaleTo.height}:flags=lanczos,` : '';
  const gop = String(Math.max(1, Math.round(fps)));
  const partialPath = partialPathFor(finalPath, format);
  switch (format) {
    case 'h264':
      return {
        format,
        encoder: 'libx264',
        kind: 'file',
        partialPath,
        remuxMuxer: 'mp4',
        outputArgs: [
          ...yuv('yuv420p', scale + PAD_EVEN),
          '-c:v',
          'libx264',
          '-preset',
          'veryfast',
          '-crf',
          '18',
          '-g',
          gop,
          '-movflags',
          `+frag_keyframe${FRAGMENTED}`,
          ...FLUSH,
          '-f',
          'mp4',
          partialPath,
        ],
      };
    case 'prores':
      return {
        format,
        encoder: 'prores_ks',
        kind: 'file',
        partialPath,
        remuxMuxer: 'mov',
        outputArgs: [
          ...yuv('yuv422p10le', scale + PAD_EVEN),
          '-c:v',
          'prores_ks',
          '-profile:v',
          '2',
          '-vendor',
          'apl0',
          '-movflags',
          FRAGMENTED,
          '-frag_duration',
          '1000000',
          ...FLUSH,
          '-f',
          'mov',
          partialPath,
        ],
      };
    case 'hap':
      return {
        format,
        encoder: 'hap',
        kind: 'file',
        partialPath,
        remuxMuxer: 'mov',
        outputArgs: [
          // DXT textures are 4x4 blocks: HAP needs both sides to be multiples of 4.
          '-vf',
          scale + PAD_4,
          '-c:v',
          'hap',
          '-format',
          'hap',
          '-movflags',
          FRAGMENTED,
          '-frag_duration',
          '1000000',
          ...FLUSH,
          '-f',
          'mov',
          partialPath,
        ],
      };
    case 'png':
      return {
        format,
        encoder: 'png',
        kind: 'dir',
        partialPath,
        remuxMuxer: null,
        outputArgs: [
          ...(scale ? ['-vf', scale.slice(0, -1)] : []),
          '-c:v',
          'png',
          '-pix_fmt',
          'rgba',
          '-f',
          'image2',
          '-start_number',
          '0',
          '-atomic_writing',
          '1',
          path.join(partialPath, PNG_PATTERN),
        ],
      };
  }
}
