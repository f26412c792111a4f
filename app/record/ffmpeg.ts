/**
 * The only place netbend talks to the ffmpeg / ffprobe binaries: locating them (with a clear
 * "install ffmpeg" error), listing encoders, running one-shot commands, and the read side
 * used by tests and other modules (probeVideo, decodeFrames).
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export type RecorderErrorCode = 'FFMPEG_NOT_FOUND' | 'ENCODER_UNAVAILABLE' | 'FFMPEG_FAILED' | 'BAD_OPTIONS' | 'BAD_FRAME' | 'NOTHING_RECORDED' | 'ABORTED';

export class RecorderError extends Error {
  readonly code: RecorderErrorCode;
  constructor(code: RecorderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecorderError';
    this.code = code;
  }
}

/** ffmpeg binary used when no ffmpegPath is given: $FFMPEG_PATH, else `ffmpeg` on PATH. */
export function defaultFfmpegPath(): string {
  return process.env.FFMPEG_PATH || 'ffmpeg';
}

/** ffprobe that belongs to an ffmpeg binary: same folder, `ffmpeg` -> `ffprobe` in the name. */
export function ffprobeFor(ffmpegPath: string): string {
  const dir = path.dirname(ffmpegPath);
  const base = path.basename(ffmpegPath);
  const i = base.lastIndexOf('ffmpeg');
  const probe = i >= 0 ? base.slice(0, i) + 'ffprobe' + base.slice(i + 'ffmpeg'.length) : 'ffprobe';
  return dir === '.' && !ffmpegPath.startsWith('.') ? probe : path.join(dir, probe);
}

export function notFoundError(tool: 'ffmpeg' | 'ffprobe', bin: string, cause: unknown): RecorderError {
  const why = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
  return new RecorderError(
    'FFMPEG_NOT_FOUND',
    `${tool} was not found (tried "${bin}": ${why}). netbend records video through the system ffmpeg: ` +
      'install it with "sudo apt install ffmpeg" (Debian/Ubuntu), "brew install ffmpeg" (macOS) or ' +
      '"winget install ffmpeg" (Windows), or point ffmpegPath / $FFMPEG_PATH at an ffmpeg binary.',
    { cause },
  );
}

/** Last `n` non-empty lines of a tool's stderr, for error messages. */
export function lastLines(text: string, n = 12): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join('\n');
}

/** Keeps only the tail of a growing stderr stream (ffmpeg can log a lot over an hour). */
export class StderrTail {
  private text = '';
  constructor(private readonly max = 16_384) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  lines(n = 12): string {
    return lastLines(this.text, n);
  }
}

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs ffmpeg/ffprobe to completion; rejects with FFMPEG_NOT_FOUND or FFMPEG_FAILED (stderr tail). */
export function runTool(bin: string, args: string[], tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg'): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    const err = new StderrTail();
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' || e.code === 'EACCES' ? notFoundError(tool, bin, e) : e);
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr: err.lines(50) });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new RecorderError('FFMPEG_FAILED', `${tool} ${how} (${tool} ${args.join(' ')}):\n${err.lines()}`));
    });
  });
}

const versions = new Map<string, Promise<string>>();
const encoderLists = new Map<string, Promise<Set<string>>>();

/** Checks once per binary that ffmpeg runs; resolves to its version line. Failures are not cached. */
export function ensureFfmpeg(bin = defaultFfmpegPath()): Promise<string> {
  let p = versions.get(bin);
  if (!p) {
    p = runTool(bin, ['-hide_banner', '-version']).then((r) => r.stdout.toString().split('\n')[0]?.trim() ?? 'ffmpeg');
    versions.set(bin, p);
    p.catch(() => versions.delete(bin));
  }
  return p;
}

/** Names of the encoders this ffmpeg build has (`ffmpeg -encoders`), cached per binary. */
export function listEncoders(bin = defaultFfmpegPath()): Promise<Set<string>> {
  let p = encoderLists.get(bin);
  if (!p) {
    p = runTool(bin, ['-hide_banner', '-encoders']).then((r) => {
      const names = new Set<string>();
      for (const line of r.stdout.toString().split('\n')) {
        const m = /^\s*[VAS][F.][S.][X.][B.][D.]\s+(\S+)/.exec(line);
        if (m?.[1] && m[1] !== '=') names.add(m[1]);
      }
      return names;
    });
    encoderLists.set(bin, p);
    p.catch(() => encoderLists.delete(bin));
  }
  return p;
}

/** Name of the files in a PNG-sequence recording folder (ffmpeg image2 pattern). */
export const PNG_PATTERN = 'frame-%05d.png';

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

/** Input arguments for a recording: a video file, or a PNG-sequence folder. */
async function inputArgs(file: string): Promise<string[]> {
  if (await isDirectory(file)) return ['-f', 'image2', '-i', path.join(file, PNG_PATTERN)];
  return ['-i', file];
}

export interface VideoInfo {
  /** Decoded frame count (ffprobe -count_frames). */
  frames: number;
  width: number;
  height: number;
  /** ffprobe codec_name: h264, prores, hap, png, ... */
  codec: string;
  /** Frames per second (r_frame_rate); image sequences report ffmpeg's default 25. */
  fps: number;
}

export interface ToolOptions {
  ffmpegPath?: string;
  /** Defaults to the ffprobe next to ffmpegPath. */
  ffprobePath?: string;
}

function parseRate(rate: string | undefined): number {
  const [n, d] = (rate ?? '0/1').split('/').map(Number);
  return d ? (n ?? 0) / d : (n ?? 0);
}

/** ffprobe's view of the first video stream of a recording (file, or PNG-sequence folder). */
export async function probeVideo(file: string, opts: ToolOptions = {}): Promise<VideoInfo> {
  const bin = opts.ffprobePath ?? ffprobeFor(opts.ffmpegPath ?? defaultFfmpegPath());
  const input = await inputArgs(file);
  const args = ['-v', 'error', '-select_streams', 'v:0', '-count_frames'];
  args.push('-show_entries', 'stream=nb_read_frames,width,height,codec_name,r_frame_rate', '-of', 'json');
  args.push(...input.filter((a) => a !== '-i'));
  const { stdout } = await runTool(bin, args, 'ffprobe');
  const stream = (JSON.parse(stdout.toString()) as { streams?: Record<string, unknown>[] }).streams?.[0];
  if (!stream) throw new RecorderError('FFMPEG_FAILED', `ffprobe found no video stream in ${file}`);
  return {
    frames: Number(stream.nb_read_frames ?? 0),
    width: Number(stream.width),
    height: Number(stream.height),
    codec: String(stream.codec_name),
    fps: parseRate(stream.r_frame_rate as string | undefined),
  };
}

/**
 * Decodes a recording to RGBA8 frames of width x height. Recordings padded to even (H.264) or
 * multiple-of-4 (HAP) sizes are cropped back from the top-left corner, so pass the size you recorded.
 */
export async function decodeFrames(file: string, width: number, height: number, opts: ToolOptions = {}): Promise<Uint8Array[]> {
  const bin = opts.ffmpegPath ?? defaultFfmpegPath();
  const args = ['-hide_banner', '-loglevel', 'error', ...(await inputArgs(file))];
  args.push('-vf', `format=rgba,crop=${width}:${height}:0:0`, '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1');
  const { stdout } = await runTool(bin, args);
  const size = width * height * 4;
  if (stdout.length % size !== 0) {
    throw new RecorderError('FFMPEG_FAILED', `decoded ${stdout.length} bytes from ${file}, not a whole number of ${width}x${height} RGBA frames`);
  }
  const frames: Uint8Array[] = [];
  for (let off = 0; off < stdout.length; off += size) frames.push(stdout.subarray(off, off + size));
  return frames;
}
