// A capture on the machine itself, where the system offers one: the system ffmpeg reads an input
// device (`pulse:default`, `alsa:hw:0`, `avfoundation::0`, `dshow:audio=Mic`, any
// `<ffmpeg input format>:<device>`) and writes mono float32 at AUDIO_RATE to its stdout, read here
// in blocks of BLOCK samples counted from 0, as a page's capture counts them. A generated input
// (lavfi) has no pace of its own and is read at its native rate (-re). open() resolves once the
// first samples arrive, or rejects in one line when the format or the device is not there.
//
//   const cap = await FfmpegCapture.open('alsa:hw:0');
//   cap.onBlock = (samples, index) => desk.place(cap, index, samples, cap.blockMs);
import { spawn, type ChildProcess } from 'node:child_process';
import { StderrTail, defaultFfmpegPath, notFoundError } from '../record/ffmpeg.ts';
import { killOnExit } from '../record/kill-on-exit.ts';
import { AudioError } from './audio-error.ts';
import { AUDIO_RATE } from './pcm-source.ts';

export const CAPTURE_BLOCK = 1024;
/** How long a device may take to give its first samples. */
const FIRST_SAMPLES_MS = 8000;

/** `<format>:<device>`: the format ffmpeg's -f names (letters, digits, _), the device anything after the first colon. */
export function parseAudioIn(spec: string): { format: string; device: string } {
  const i = spec.indexOf(':');
  const format = i > 0 ? spec.slice(0, i) : '';
  const device = i > 0 ? spec.slice(i + 1) : '';
  if (!/^[a-z0-9_]{1,32}$/i.test(format) || !device || device.length > 1024 || device.includes('\0'))
    throw new AudioError('BAD_OPTIONS', `--audio-in "${spec}": expected <ffmpeg input format>:<device>, e.g. pulse:default, alsa:hw:0 or lavfi:sine=frequency=60`);
  return { format, device };
}

export class FfmpegCapture {
  /** Each block of CAPTURE_BLOCK samples, with its first sample's index in the capture (from 0). */
  onBlock: (samples: Float32Array, index: number) => void = () => {};
  /** ffmpeg stopped by itself (the device went away): said in one line. */
  onEnd: (text: string) => void = () => {};
  /** The capture's own share of the latency: a block's filling. */
  readonly blockMs = (CAPTURE_BLOCK / AUDIO_RATE) * 1000;
  private sent = 0;
  private pending = new Float32Array(CAPTURE_BLOCK);
  private fill = 0;
  private carry = Buffer.alloc(0);
  private stopped = false;

  private constructor(
    readonly spec: string,
    private readonly child: ChildProcess,
  ) {}

  static open(spec: string, o: { ffmpegPath?: string } = {}): Promise<FfmpegCapture> {
    const { format, device } = parseAudioIn(spec);
    const bin = o.ffmpegPath ?? defaultFfmpegPath();
    const pace = format === 'lavfi' ? ['-re'] : [];
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', ...pace, '-f', format, '-i', device, '-vn', '-ac', '1', '-ar', String(AUDIO_RATE), '-flush_packets', '1', '-f', 'f32le', 'pipe:1'];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const cap = new FfmpegCapture(spec, child);
    const done = child.pid === undefined ? () => {} : killOnExit(child.pid);
    const err = new StderrTail();
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    return new Promise((resolve, reject) => {
      let first = true;
      const fail = (e: Error) => {
        if (!first) return;
        first = false;
        clearTimeout(timer);
        cap.stop();
        reject(e);
      };
      const timer = setTimeout(() => fail(new AudioError('NO_DEVICE', `--audio-in ${spec}: no sound from it in ${FIRST_SAMPLES_MS / 1000} s`)), FIRST_SAMPLES_MS);
      child.stdout!.on('data', (c: Buffer) => {
        if (first) {
          first = false;
          clearTimeout(timer);
          resolve(cap);
        }
        cap.take(c);
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        done();
        fail(e.code === 'ENOENT' || e.code === 'EACCES' ? notFoundError('ffmpeg', bin, e) : e);
      });
      child.on('close', (code, signal) => {
        done();
        const said = err.lines(4).split('\n').at(-1) || (signal ? `killed by ${signal}` : `exited with code ${code}`);
        const why = /unknown input format|requested input format/i.test(said) ? `ffmpeg has no input format "${format}" here` : `ffmpeg could not capture from it`;
        fail(new AudioError('NO_DEVICE', `--audio-in ${spec}: ${why} (${said.trim()})`));
        if (!cap.stopped) {
          cap.stopped = true;
          cap.onEnd(`audio capture ${spec} ended: ${said.trim()}`);
        }
      });
    });
  }

  /** Said by the show: a page took the capture over. */
  ended(): void {
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }

  private take(chunk: Buffer): void {
    if (this.stopped) return;
    const bytes = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const n = Math.floor(bytes.length / 4);
    for (let i = 0; i < n; i++) {
      const v = bytes.readFloatLE(i * 4);
      this.pending[this.fill++] = Number.isFinite(v) ? v : 0;
      if (this.fill === CAPTURE_BLOCK) {
        this.onBlock(this.pending.slice(), this.sent);
        this.sent += CAPTURE_BLOCK;
        this.fill = 0;
      }
    }
    this.carry = Buffer.from(bytes.subarray(n * 4));
  }
}
