// Issue 14's bench: the offline render loop of models/default.onnx at 60 fps frame times, with
// and without the audio analysis (decoded track, analyser, /netbend/audio/ parameters, an
// expression reading them), side by side in one process; and the analysis alone per frame, as a
// share of the 16.7 ms a 60 fps frame has.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../app/engine/engine.ts';
import { ModulationBank } from '../app/control/modulation.ts';
import { Tempo } from '../app/control/tempo.ts';
import { AudioAnalyser } from '../app/audio/analyser.ts';
import { AudioParams } from '../app/audio/audio-params.ts';
import { decodePcm } from '../app/audio/pcm-file.ts';
import { defaultFfmpegPath, runTool } from '../app/record/ffmpeg.ts';
import { ROOT, sideBySide, writeResult } from './util.ts';

const FPS = 60;
/** Short rounds, many of them: a load burst on this shared machine lasts seconds and hits both sides alike. */
const FRAMES = 10;
const ROUNDS = 201;
/** A busy track: a kick-like thump on the beat, a bass line, hats of noise, a chord. */
const TRACK =
  "aevalsrc='0.6*sin(2*PI*55*t)*exp(-8*mod(t,0.5))+0.2*sin(2*PI*(110+55*gte(mod(t,2),1))*t)+0.15*(random(0)*2-1)*exp(-60*mod(t+0.25,0.5))+0.05*(sin(2*PI*261.6*t)+sin(2*PI*329.6*t)+sin(2*PI*392*t))':s=44100:d=60";

export async function benchAudio(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netbend-bench-audio-'));
  try {
    const file = join(dir, 'track.wav');
    await runTool(defaultFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', TRACK, file]);
    const pcm = await decodePcm(file);
    const { engine } = await Engine.open({ model: join(ROOT, 'models', 'default.onnx'), ep: 'cpu' });
    const tempo = new Tempo();
    const audio = new AudioParams(engine.params, new AudioAnalyser(pcm), { tempo });
    const plain = new ModulationBank(engine.params, tempo);
    plain.add({ target: 'z/offset', kind: 'expr', source: '0.1 * sin(t)' });
    const reactive = new ModulationBank(engine.params, tempo);
    reactive.add({ target: 'z/offset', kind: 'expr', source: '0.1 * sin(t) + audio.low + 0.5 * audio.onset' });
    // Each side keeps its own frame count, so the analyser sees times that only go forward.
    const sides = { plain: 0, reactive: 0 };
    let analysisMs = 0;
    let analysed = 0;
    const perRound: Record<keyof typeof sides, number[]> = { plain: [], reactive: [] };
    const loop = (side: keyof typeof sides) => async () => {
      const t0 = performance.now();
      for (let i = 0; i < FRAMES; i++) {
        const index = sides[side]++;
        const t = { index, time: index / FPS, dt: index ? 1 / FPS : 0 };
        if (side === 'reactive') {
          const a0 = performance.now();
          audio.update(t);
          analysisMs += performance.now() - a0;
          analysed++;
          reactive.apply(t.time, t.index);
        } else plain.apply(t.time, t.index);
        await engine.render(t);
      }
      const fps = (FRAMES * 1000) / (performance.now() - t0);
      perRound[side].push(fps);
      return fps;
    };
    await loop('plain')();
    await loop('reactive')();
    [analysisMs, analysed] = [0, 0];
    perRound.plain.length = perRound.reactive.length = 0;
    const r = await sideBySide(ROUNDS, loop('plain'), loop('reactive'));
    await engine.close();
    const perFrame = analysisMs / analysed;
    const budget = 1000 / FPS;
    console.log(
      `default.onnx at ${FPS} fps frame times: ${r.a.toFixed(1)} fps plain, ${r.b.toFixed(1)} fps with audio, ratio ${r.ratio.toFixed(3)}; analysis ${perFrame.toFixed(3)} ms/frame = ${((100 * perFrame) / budget).toFixed(2)} % of ${budget.toFixed(1)} ms`,
    );
    writeResult('audio', {
      model: 'models/default.onnx',
      ep: 'cpu',
      fps: FPS,
      framesPerRound: FRAMES,
      rounds: ROUNDS,
      track: '60 s lavfi mix at 44.1 kHz, decoded to 48 kHz mono: kick on the beat, bass, noise hats, a chord',
      goal: 'ratio >= 0.95 (analysis under 5 % of the frame budget at 60 fps)',
      plainFps: r.a,
      audioFps: r.b,
      ratioAudioOverPlain: r.ratio,
      analysisMsPerFrame: perFrame,
      analysisShareOf60FpsBudget: perFrame / budget,
      /** What the ratio would be if the analysis were the only difference: plain frame time over plain + analysis. */
      ratioFromAnalysisTime: 1000 / r.a / (1000 / r.a + perFrame),
      roundRatioQuartiles: quartiles(perRound.reactive.map((b, i) => b / perRound.plain[i]!)),
      trackedBpm: audio.last?.bpm ?? 0,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function quartiles(xs: number[]): [number, number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return [at(0.25), at(0.5), at(0.75)];
}
