// Issue 14: audio features from generated signals (ffmpeg's lavfi: sines, clicks, noise bursts),
// the parameters and expressions they feed, and `render --audio` muxing the track it renders from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT, tempDir } from './helpers.ts';
import { defaultFfmpegPath, ffprobeFor, runTool } from '../app/record/ffmpeg.ts';
import { decodeFrames, probeVideo } from '../app/record/video-recorder.ts';
import { hann, RealFft } from '../app/audio/fft.ts';
import { type AudioError, decodePcm } from '../app/audio/pcm-file.ts';
import { AUDIO_RATE, type PcmBuffer, PcmRing } from '../app/audio/pcm-source.ts';
import { AudioAnalyser, HOP, type AudioFeatureValues } from '../app/audio/analyser.ts';
import { AudioParams, LOW_MID, MID_HIGH, shapeAddress } from '../app/audio/audio-params.ts';
import { AudioInput } from '../app/audio/live-input.ts';
import { ParameterRegistry } from '../app/core/registry.ts';
import { ModulationBank } from '../app/control/modulation.ts';
import { Tempo } from '../app/control/tempo.ts';

const MODEL = join(ROOT, 'models', 'default.onnx');

/** A sound made by ffmpeg's lavfi (`sine=...`, `aevalsrc=...`) into a WAV file. */
async function lavfi(dir: string, name: string, graph: string): Promise<string> {
  const file = join(dir, `${name}.wav`);
  await runTool(defaultFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', graph, file]);
  return file;
}

/** A percussive click (a 2 kHz ping decaying in a few ms) every `period` seconds from `first`. */
const clicks = (period: number, first: number, seconds: number, rate = AUDIO_RATE) => `aevalsrc='0.9*sin(2*PI*2000*t)*exp(-400*mod(t-${first},${period}))*gte(t,${first})':s=${rate}:d=${seconds}`;

/** Features at every frame of `fps` over the whole track. */
function run(pcm: PcmBuffer, fps: number, a = new AudioAnalyser(pcm)): AudioFeatureValues[] {
  const out: AudioFeatureValues[] = [];
  for (let i = 0; i < Math.round(pcm.seconds * fps); i++) out.push(a.at(i / fps));
  return out;
}

test('the real FFT matches a direct DFT', () => {
  for (const n of [8, 256, 4096]) {
    const fft = new RealFft(n);
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + ((i * 7919) % 13) / 13 - 0.5);
    const got = new Float64Array(fft.bins);
    fft.power(x, got);
    for (const k of [0, 1, 3, n / 4, n / 2 - 1, n / 2]) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < n; j++) {
        re += x[j]! * Math.cos((-2 * Math.PI * k * j) / n);
        im += x[j]! * Math.sin((-2 * Math.PI * k * j) / n);
      }
      const want = re * re + im * im;
      assert.ok(Math.abs(got[k]! - want) <= 1e-9 * Math.max(1, want), `n=${n} k=${k}: ${got[k]} vs ${want}`);
    }
  }
  assert.throws(() => new RealFft(1000), /power of two/);
  assert.equal(hann(4)[0], 0);
});

test('a 60 Hz sine raises low and not high; a 5 kHz sine the other way; chroma finds an A', async (t) => {
  const dir = tempDir(t);
  const at = async (graph: string) => {
    const rows = run(await decodePcm(await lavfi(dir, 'tone', graph)), 30);
    return rows[rows.length >> 1]!;
  };
  const s60 = await at('sine=frequency=60:sample_rate=48000:duration=2');
  const s5k = await at('sine=frequency=5000:sample_rate=48000:duration=2');
  const a440 = await at('sine=frequency=440:sample_rate=44100:duration=2');
  t.diagnostic(`60 Hz: low ${s60.low.toExponential(3)} mid ${s60.mid.toExponential(3)} high ${s60.high.toExponential(3)}; 5 kHz: low ${s5k.low.toExponential(3)} high ${s5k.high.toExponential(3)}`);
  // lavfi's sine is 1/8 of full scale: RMS 0.0884, which the band holding it reads.
  for (const [s, band, others] of [
    [s60, 'low', ['mid', 'high']],
    [s5k, 'high', ['low', 'mid']],
    [a440, 'mid', ['low', 'high']],
  ] as const) {
    assert.ok(Math.abs(s[band] - 0.125 / Math.SQRT2) < 0.004, `${band} = ${s[band]}`);
    assert.ok(Math.abs(s.rms - 0.125 / Math.SQRT2) < 0.002, `rms = ${s.rms}`);
    for (const o of others) assert.ok(s[o] < s[band] / 1000, `${o} = ${s[o]} beside ${band} = ${s[band]}`);
  }
  assert.ok(Math.abs(s60.peak - 0.125) < 0.002);
  assert.ok(s5k.centroid > s60.centroid + 0.5, `centroid 5 kHz ${s5k.centroid} over 60 Hz ${s60.centroid}`);
  assert.equal(a440.chroma.indexOf(1), 9, `A is pitch class 9: ${a440.chroma.map((c) => c.toFixed(2))}`);
  assert.ok(
    a440.chroma.filter((_, i) => i !== 9).every((c) => c < 0.05),
    `${a440.chroma}`,
  );
  // Low notes lie closer than a bin apart: the peak's interpolated frequency still names them.
  for (const [hz, pc] of [
    [110, 9],
    [130.81, 0],
    [155.56, 3],
  ] as const) {
    const c = (await at(`sine=frequency=${hz}:sample_rate=48000:duration=1`)).chroma;
    assert.equal(c.indexOf(1), pc, `${hz} Hz: ${c.map((x) => x.toFixed(2))}`);
  }
  const chord = (await at(`aevalsrc='0.2*(sin(2*PI*261.63*t)+sin(2*PI*329.63*t)+sin(2*PI*392*t))':s=48000:d=1`)).chroma;
  const top3 = chord
    .map((c, i) => [c, i] as const)
    .sort((x, y) => y[0] - x[0])
    .slice(0, 3)
    .map(([, i]) => i)
    .sort((x, y) => x - y);
  assert.deepEqual(top3, [0, 4, 7], `C major: ${chord.map((x) => x.toFixed(2))}`);
});

test('clicks at 120 bpm: one onset per click, on the frame at or right after it (30 and 60 fps)', async (t) => {
  const dir = tempDir(t);
  const period = 0.5;
  const first = 0.13;
  const pcm = await decodePcm(await lavfi(dir, 'clicks', clicks(period, first, 6)));
  const times = Array.from({ length: 12 }, (_, k) => first + k * period);
  for (const fps of [30, 60]) {
    const a = new AudioAnalyser(pcm);
    const rows = run(pcm, fps, a);
    const onsetFrames = rows.flatMap((r, i) => (r.onset ? [i] : []));
    assert.equal(onsetFrames.length, times.length, `${fps} fps: onsets at frames ${onsetFrames}`);
    const lags = onsetFrames.map((f, k) => f - Math.ceil(times[k]! * fps - 1e-9));
    assert.ok(
      lags.every((l) => l === 0 || l === 1),
      `${fps} fps: frames after their click ${lags}`,
    );
    const errorsMs = a.onsetHops.map((h, k) => ((h * HOP) / AUDIO_RATE - times[k]!) * 1000);
    assert.ok(
      errorsMs.every((e) => e >= 0 && e < 1000 / fps),
      `grid onsets after their clicks, ms: ${errorsMs}`,
    );
    t.diagnostic(`${fps} fps: onset frame - click frame ${lags.join(' ')}; grid onset - click ${Math.min(...errorsMs).toFixed(1)}..${Math.max(...errorsMs).toFixed(1)} ms`);
  }
});

test('noise bursts: one onset at the start of each', async (t) => {
  const dir = tempDir(t);
  const pcm = await decodePcm(await lavfi(dir, 'bursts', `aevalsrc='0.5*(random(0)*2-1)*lt(mod(t-0.3,0.8),0.3)*gte(t,0.3)':s=48000:d=4`));
  const a = new AudioAnalyser(pcm);
  const rows = run(pcm, 30, a);
  const starts = [0.3, 1.1, 1.9, 2.7, 3.5];
  const onsets = a.onsetHops.map((h) => (h * HOP) / AUDIO_RATE);
  assert.equal(onsets.length, starts.length, `onsets at ${onsets.map((s) => s.toFixed(3))}`);
  onsets.forEach((s, k) => assert.ok(s - starts[k]! >= 0 && s - starts[k]! < 1 / 30, `burst ${k}: onset at ${s}`));
  t.diagnostic(`burst onsets - starts, ms: ${onsets.map((s, k) => ((s - starts[k]!) * 1000).toFixed(1)).join(' ')}`);
  const inBurst = rows.filter((r) => r.time > 0.5 && r.time < 0.55)[0]!;
  assert.ok(inBurst.high > inBurst.low, 'white noise is mostly above 4 kHz');
});

test('beat tracking reads 120 +- 1 bpm on a 120 bpm click track within 8 s, 100 on 100, and a phase locked to the clicks', async (t) => {
  const dir = tempDir(t);
  for (const bpm of [120, 100]) {
    const period = 60 / bpm;
    const pcm = await decodePcm(await lavfi(dir, `c${bpm}`, clicks(period, 0.07, 10)));
    const rows = run(pcm, 30);
    const off = rows.map((r) => Math.abs(r.bpm - bpm) > 1);
    const lockedFrom = off.lastIndexOf(true) + 1;
    const lockAt = rows[lockedFrom]?.time ?? Infinity;
    assert.ok(lockAt <= 8, `${bpm} bpm: reads ${rows.at(-1)!.bpm} at the end, steady within 1 bpm from ${lockAt} s`);
    const readings = rows.slice(lockedFrom).map((r) => r.bpm);
    // Beats fall on the clicks: each beat frame is within a frame and a hop of a click.
    const beats = rows.filter((r) => r.time >= lockAt && r.beat === 1).map((r) => r.time);
    assert.ok(beats.length >= Math.floor(((10 - lockAt) * bpm) / 60) - 1, `${beats.length} beats after lock`);
    for (const b of beats) {
      const nearest = 0.07 + Math.round((b - 0.07) / period) * period;
      assert.ok(b - nearest >= -1e-9 && b - nearest < 1 / 30 + HOP / AUDIO_RATE + 0.02, `beat at ${b}, click at ${nearest}`);
    }
    t.diagnostic(`${bpm} bpm: within 1 bpm from ${lockAt.toFixed(2)} s, readings ${Math.min(...readings).toFixed(2)}..${Math.max(...readings).toFixed(2)}, ${beats.length} beats on clicks`);
  }
});

test('determinism: the same file twice, and the same samples pushed live in odd blocks, give identical features', async (t) => {
  const dir = tempDir(t);
  const file = await lavfi(dir, 'mix', `aevalsrc='0.3*sin(2*PI*110*t)+0.2*(random(0)*2-1)*lt(mod(t,0.37),0.05)+0.2*sin(2*PI*3000*t)*gte(mod(t,0.5),0.25)':s=44100:d=3`);
  const [a, b] = [run(await decodePcm(file), 60), run(await decodePcm(file), 60)];
  assert.deepEqual(a, b);
  assert.ok(a.some((r) => r.onset) && a.every((r) => Object.values(r).flat().every(Number.isFinite)));
  // A live capture pushes blocks as they come; the analyser asked at the same frame times agrees.
  const pcm = await decodePcm(file);
  const ring = new PcmRing(AUDIO_RATE * 10);
  const live = new AudioAnalyser(ring);
  const rows: AudioFeatureValues[] = [];
  let pushed = 0;
  const sizes = [480, 1024, 333, 2048, 7];
  for (let i = 0; i < a.length; i++) {
    const need = Math.round((i / 60) * AUDIO_RATE);
    while (pushed < need) {
      const n = Math.min(sizes[pushed % sizes.length]!, pcm.samples.length - pushed);
      ring.push(pcm.samples.subarray(pushed, pushed + n), pushed);
      pushed += n;
    }
    rows.push(live.at(i / 60));
  }
  assert.deepEqual(rows, a);
});

test('wav, flac, mp3 and ogg decode to the same sound: flac sample for sample, the lossy ones to the same onsets', async (t) => {
  const dir = tempDir(t);
  const wav = await lavfi(dir, 'clicks', clicks(0.5, 0.1, 3));
  const encode = async (ext: string, codec: string[]) => {
    const file = join(dir, `clicks.${ext}`);
    await runTool(defaultFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, ...codec, file]);
    return decodePcm(file);
  };
  const ref = await decodePcm(wav);
  const flac = await encode('flac', ['-c:a', 'flac']);
  assert.deepEqual(flac.samples, ref.samples);
  const want = run(ref, 30).filter((r) => r.onset).length;
  for (const [ext, codec] of [
    ['mp3', ['-c:a', 'libmp3lame', '-b:a', '192k']],
    ['ogg', ['-c:a', 'libvorbis', '-q:a', '6']],
  ] as const) {
    const pcm = await encode(ext, [...codec]);
    assert.ok(Math.abs(pcm.seconds - ref.seconds) < 0.06, `${ext}: ${pcm.seconds} s`);
    assert.equal(run(pcm, 30).filter((r) => r.onset).length, want, `${ext}: onsets`);
  }
});

test('live input: blocks arriving late are analysed at the newest sample, the lag kept, the onsets all found', async (t) => {
  const dir = tempDir(t);
  const pcm = await decodePcm(await lavfi(dir, 'clicks', clicks(0.5, 0.1, 3)));
  const input = new AudioInput(new ParameterRegistry());
  const offline = new AudioAnalyser(pcm);
  const block = 960;
  let pushed = 0;
  let onsets = 0;
  for (let i = 0; i < 180; i++) {
    const time = i / 60;
    // The capture is 30 ms behind and arrives in 20 ms blocks.
    const have = Math.max(0, Math.floor(((time - 0.03) * AUDIO_RATE) / block) * block);
    for (; pushed < have; pushed += block) input.push(pcm.samples.subarray(pushed, pushed + block), pushed);
    const live = input.update({ index: i, time, dt: i ? 1 / 60 : 0 });
    assert.ok(input.lag >= Math.min(time, 0.03) - 1e-9 && input.lag <= 0.05 + 1e-9, `lag ${input.lag} at ${time}`);
    // The offline analyser asked at the newest sample's time agrees (an onset jumps the shaped value to 1, flux is unshaped).
    const want = offline.at(have / AUDIO_RATE);
    assert.equal(live.onset === 1, want.onset === 1, `frame ${i}`);
    assert.equal(live.flux, want.flux);
    onsets += want.onset;
  }
  assert.equal(onsets, 6);
});

test('features as parameters: read-only, shaped by gain, gate, attack and release, read by expressions', async (t) => {
  const dir = tempDir(t);
  const pcm = await decodePcm(await lavfi(dir, 'low', 'sine=frequency=60:sample_rate=48000:duration=1'));
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/source/z/offset', type: 'float', default: 0, min: -2, max: 2 });
  const tempo = new Tempo();
  const audio = new AudioParams(params, new AudioAnalyser(pcm), { tempo });
  const bank = new ModulationBank(params, tempo);
  bank.add({ target: 'z/offset', kind: 'expr', source: '0.5 + audio.low * 4 + audio.chroma.0 * 0' });
  const low = '/netbend/audio/low';
  assert.throws(() => params.set(low, 0.5, 'osc'), /read-only/);
  params.set(shapeAddress('low', 'attack'), 0.1, 'ui');
  const frames: number[] = [];
  for (let i = 0; i < 30; i++) {
    audio.update({ index: i, time: i / 30, dt: i ? 1 / 30 : 0 });
    bank.apply(i / 30, i);
    frames.push(params.number(low));
    assert.equal(params.number('/netbend/source/z/offset'), 0.5 + params.number(low) * 4);
  }
  // Attack 0.1 s: the level climbs towards the sine's RMS over a few frames, never past it.
  const rms = 0.125 / Math.SQRT2;
  assert.ok(frames[3]! > 0.3 * rms && frames[3]! < 0.9 * rms, `frame 3: ${frames[3]}`);
  assert.ok(Math.abs(frames[29]! - rms) < 0.003, `frame 29: ${frames[29]}`);
  params.set(shapeAddress('low', 'gain'), 2, 'ui');
  params.set(shapeAddress('low', 'attack'), 0, 'ui');
  audio.update({ index: 30, time: 1, dt: 1 / 30 });
  assert.ok(Math.abs(params.number(low) - 2 * rms) < 0.006, `gain 2: ${params.number(low)}`);
  params.set(shapeAddress('low', 'gate'), 0.5, 'ui');
  params.set(shapeAddress('low', 'release'), 0, 'ui');
  audio.update({ index: 31, time: 31 / 30, dt: 1 / 30 });
  assert.equal(params.number(low), 0, 'under the gate');
  assert.ok(params.list().some((s) => s.address === '/netbend/audio/chroma/11' && s.readOnly));
  audio.remove();
  assert.ok(!params.list().some((s) => s.address.startsWith('/netbend/audio/')));
});

test('refusals: a missing file, a text file, a video without sound, silence, absurd crossovers', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(decodePcm(join(dir, 'nope.wav')), (e: AudioError) => e.code === 'NOT_FOUND' && /nope\.wav: no such audio file/.test(e.message));
  const text = join(dir, 'notes.wav');
  writeFileSync(text, 'these are notes, not sound\n'.repeat(50));
  await assert.rejects(decodePcm(text), (e: AudioError) => e.code === 'NOT_AUDIO' && /notes\.wav: is not audio/.test(e.message));
  const video = join(dir, 'mute.mp4');
  await runTool(defaultFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=32x32:duration=0.2', '-c:v', 'libx264', video]);
  await assert.rejects(decodePcm(video), (e: AudioError) => e.code === 'NOT_AUDIO' && /has no audio stream/.test(e.message));
  const silence = await decodePcm(await lavfi(dir, 'silence', 'anullsrc=r=48000:cl=mono:d=3'));
  for (const r of run(silence, 30)) {
    for (const v of Object.values(r).flat()) assert.ok(Number.isFinite(v), JSON.stringify(r));
    assert.ok(r.rms === 0 && r.onset === 0 && r.bpm === 0 && r.centroid === 0 && r.chroma.every((c) => c === 0));
  }
  assert.throws(() => new AudioAnalyser(silence, { lowMid: 5000, midHigh: 300 }), /crossovers 5000 Hz \/ 300 Hz/);
  assert.throws(() => new AudioAnalyser(silence, { midHigh: 30000 }), /< 24000 Hz/);
  assert.throws(() => new AudioAnalyser(silence, { threshold: Number.NaN }), /threshold/);
  const params = new ParameterRegistry();
  const warnings: string[] = [];
  const audio = new AudioParams(params, new AudioAnalyser(silence), { onWarning: (w) => warnings.push(w) });
  assert.throws(() => params.set(LOW_MID, 1e6, 'osc'), /out of bounds/);
  params.set(LOW_MID, 8000, 'osc');
  for (let i = 0; i < 3; i++) audio.update({ index: i, time: i / 30, dt: 1 / 30 });
  assert.equal(warnings.length, 1, `said once: ${warnings}`);
  assert.match(warnings[0]!, /crossovers 8000 Hz \/ 4000 Hz.*keeps 250 Hz \/ 4000 Hz/);
  params.set(MID_HIGH, 12_000, 'osc');
  audio.update({ index: 3, time: 0.1, dt: 1 / 30 });
  assert.deepEqual([audio.analyser.current.lowMid, audio.analyser.current.midHigh], [8000, 12_000]);
});

test('render --audio: the track muxed at its length, the picture jumps on the clicks', async (t) => {
  const dir = tempDir(t);
  const first = 0.1;
  const track = await lavfi(dir, 'clicks', clicks(0.5, first, 4));
  const out = join(dir, 'clip.mp4');
  const fps = 30;
  // With a refusal side by side: a file that is not sound is said before any model loads.
  const [r, bad] = await Promise.all([
    cli(['render', MODEL, '--audio', track, '--animate', 'z/offset=audio.onset', '--animate', 'z/speed=0.1', '--fps', String(fps), '--size', '64x64', '--ep', 'cpu', '--out', out]),
    cli(['render', MODEL, '--audio', join(dir, 'missing.wav'), '--ep', 'cpu', '--out', join(dir, 'x.mp4')]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const info = await probeVideo(out);
  assert.equal(info.frames, 4 * fps, '--seconds defaults to the track');
  const probe = await runTool(ffprobeFor(defaultFfmpegPath()), ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=codec_name,duration,start_time', '-of', 'json', out], 'ffprobe');
  const audio = (JSON.parse(probe.stdout.toString()) as { streams: Array<{ codec_name: string; duration: string; start_time: string }> }).streams[0]!;
  assert.equal(audio.codec_name, 'aac');
  assert.ok(Math.abs(Number(audio.duration) - 4) <= 1 / fps, `audio stream of ${audio.duration} s`);
  assert.equal(Number(audio.start_time), 0);
  const frames = await decodeFrames(out, 64, 64);
  const diff = frames.map((f, i) => {
    if (i === 0) return 0;
    let s = 0;
    for (let j = 0; j < f.length; j++) s += Math.abs(f[j]! - frames[i - 1]![j]!);
    return s / f.length;
  });
  const clicksAt = Array.from({ length: 8 }, (_, k) => first + k * 0.5);
  const atClick = clicksAt.map((c) => Math.max(diff[Math.ceil(c * fps)]!, diff[Math.ceil(c * fps) + 1]!));
  const between = clicksAt.flatMap((c) => diff.filter((_, i) => i / fps >= c + 0.2 && i / fps <= c + 0.45));
  t.diagnostic(`mean |frame - previous| at clicks ${atClick.map((d) => d.toFixed(1)).join(' ')}; between clicks at most ${Math.max(...between).toFixed(1)}`);
  for (const d of atClick) assert.ok(d > Math.max(...between), `at a click ${d} vs between ${Math.max(...between)}`);
  // A file that is not sound is said before any model loads.
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^netbend: .*missing\.wav: no such audio file\n$/);
});
