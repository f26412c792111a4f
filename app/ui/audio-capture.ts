// The page's audio capture: an input device through getUserMedia, downmixed to mono by the Web
// Audio graph (a one-channel node, 'speakers' interpretation), at 48 kHz (the AudioContext is asked
// for it; a context that runs at another rate is resampled here, linearly), in blocks of 1024
// samples from an AudioWorklet (a ScriptProcessor where there is none), each sent to the engine
// as one binary message (app/core/pcm-frame.ts) with the page's own latency in its header.
import { signal } from '@preact/signals';
import { captureEnded, notice, send, sendBinary } from './connection.ts';
import { encodePcmFrame } from '../core/pcm-frame.ts';

const RATE = 48_000;
const BLOCK = 1024;

export const audioInputs = signal<Array<{ id: string; label: string }>>([]);
/** 'off', 'starting', 'on'; `refused` when another page captures (the panel offers to take over). */
export const captureState = signal<{ state: 'off' | 'starting' | 'on'; refused?: boolean; rate?: number; worklet?: boolean }>({ state: 'off' });

/** Runs inside the AudioWorkletGlobalScope: 128-sample quanta gathered into blocks. */
const WORKLET = `registerProcessor('netbend-capture', class extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Float32Array(${BLOCK}); this.n = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      this.buf[this.n++] = ch[i];
      if (this.n === this.buf.length) { this.port.postMessage(this.buf.slice()); this.n = 0; }
    }
    return true;
  }
});`;

export async function listInputs(): Promise<void> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  audioInputs.value = devices.filter((d) => d.kind === 'audioinput').map((d, i) => ({ id: d.deviceId, label: d.label || `input ${i + 1}` }));
}

/** Linear resampling from `from` Hz to 48 kHz, carrying the fractional position across blocks. */
function resampler(from: number): (block: Float32Array) => Float32Array {
  if (from === RATE) return (b) => b;
  const step = from / RATE;
  // The next output's position, where b[0] is at 0 and the previous block's last sample at -1.
  let pos = 0;
  let prev = 0;
  return (b) => {
    const at = (j: number) => (j < 0 ? prev : b[j]!);
    const out: number[] = [];
    for (; pos < b.length - 1; pos += step) {
      const i = Math.floor(pos);
      out.push(at(i) + (at(i + 1) - at(i)) * (pos - i));
    }
    pos -= b.length;
    prev = b[b.length - 1] ?? prev;
    return Float32Array.from(out);
  };
}

let running: { stop: () => void } | undefined;
/** For tests: the page's own share of the latency in the last block sent. */
const debug = ((globalThis as unknown as { netbend: Record<string, unknown> }).netbend.audio = { pageMs: 0 });

/** Starts capturing `deviceId` (the default input when empty); refused when another page captures, unless `takeover`. */
export async function startCapture(deviceId: string, takeover = false): Promise<void> {
  if (running) return;
  captureState.value = { state: 'starting' };
  try {
    await send({ cmd: 'audioCapture', on: true, takeover });
  } catch (err) {
    captureState.value = { state: 'off', refused: /another page/.test((err as Error).message) };
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: deviceId ? { exact: deviceId } : undefined, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  } catch (err) {
    notice('error', `audio input: ${(err as Error).message}`);
    await send({ cmd: 'audioCapture', on: false }).catch(() => {});
    captureState.value = { state: 'off' };
    return;
  }
  void listInputs(); // labels are only given once a capture is allowed
  let ctx: AudioContext;
  try {
    ctx = new AudioContext({ sampleRate: RATE });
  } catch {
    ctx = new AudioContext();
  }
  const source = ctx.createMediaStreamSource(stream);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  mute.connect(ctx.destination);
  const resample = resampler(ctx.sampleRate);
  const settings = stream.getAudioTracks()[0]?.getSettings() as (MediaTrackSettings & { latency?: number }) | undefined;
  let index = 0;
  let halfTrip = 0;
  const onBlock = (block: Float32Array) => {
    const b = resample(block);
    if (!b.length) return;
    // The page's share: the input's own latency, the block's filling, the context's, half the round trip.
    const ms = ((settings?.latency ?? 0) + block.length / ctx.sampleRate + (ctx.baseLatency ?? 0)) * 1000 + halfTrip;
    sendBinary(encodePcmFrame(index, b, Math.min(ms, 10_000)));
    debug.pageMs = ms;
    index += b.length;
  };
  let node: AudioNode;
  const worklet = !!ctx.audioWorklet;
  if (worklet) {
    const url = URL.createObjectURL(new Blob([WORKLET], { type: 'application/javascript' }));
    await ctx.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    const w = new AudioWorkletNode(ctx, 'netbend-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit', channelInterpretation: 'speakers' });
    w.port.onmessage = (e: MessageEvent<Float32Array>) => onBlock(e.data);
    node = w;
  } else {
    const sp = ctx.createScriptProcessor(BLOCK, 1, 1);
    sp.channelCountMode = 'explicit';
    sp.channelInterpretation = 'speakers';
    sp.onaudioprocess = (e) => onBlock(e.inputBuffer.getChannelData(0).slice());
    node = sp;
  }
  source.connect(node);
  node.connect(mute);
  // The round trip, every 2 s: the command is a no-op for the page already capturing.
  const ping = setInterval(() => {
    const t0 = performance.now();
    void send({ cmd: 'audioCapture', on: true }).then(
      () => (halfTrip = (performance.now() - t0) / 2),
      () => {},
    );
  }, 2000);
  const ended = (text: string) => {
    notice('warning', `audio capture: ${text}`);
    stop(false);
  };
  const stop = (tell: boolean) => {
    clearInterval(ping);
    captureEnded.delete(ended);
    source.disconnect();
    node.disconnect();
    for (const t of stream.getTracks()) t.stop();
    void ctx.close();
    running = undefined;
    captureState.value = { state: 'off' };
    if (tell) void send({ cmd: 'audioCapture', on: false }).catch(() => {});
  };
  captureEnded.add(ended);
  running = { stop: () => stop(true) };
  captureState.value = { state: 'on', rate: ctx.sampleRate, worklet };
}

export function stopCapture(): void {
  running?.stop();
}
