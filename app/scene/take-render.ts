// Renders a take again. At the take's own frame rate it renders exactly the slots the show
// rendered, at their times and steps, with the values and the structure each one saw: every
// frame equals the live frame of its slot (dropped slots are filled by repeating, as the live
// recording did). At another frame rate every slot is rendered and the same control curves play:
// logged values land at their times, modulators run again from the scene (their live values
// are skipped), so motion stays smooth at any rate.
import { ParameterRegistry, type ChangeSource } from '../core/registry.ts';
import { ModulationBank } from '../control/modulation.ts';
import { Tempo } from '../control/tempo.ts';
import { applyLatent, applyScene, sameEdit } from '../control/scene.ts';
import { Engine } from '../engine/engine.ts';
import type { EditOp } from '../engine/bend/edit-ops.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';
import type { LatentPlanOptions } from '../engine/latent/latent-plan.ts';
import { startRecording, type RecordFormat, type RecordingSummary } from '../record/video-recorder.ts';
import { BPM } from '../core/addresses.ts';
import { defineShowParams } from './show-params.ts';
import { openNextModel } from './switch-model.ts';
import type { Take, TakeEntry, TakeStructure } from './take.ts';
import { TakeSound } from './take-sound.ts';

export interface TakeRenderOptions {
  out: string;
  format: RecordFormat;
  /** Default: the take's own; another rate replays the control curves at that rate. */
  fps?: number;
  /** Encode at this size (ffmpeg scales). */
  size?: { width: number; height: number };
  ep?: EpChoice;
  /** W space estimation as the show had it (LiveOptions.latent; tests sample fewer z). */
  latent?: LatentPlanOptions;
  /** Called after each rendered frame. */
  onFrame?: (done: number, total: number) => void;
}

export async function renderTake(take: Take, o: TakeRenderOptions): Promise<RecordingSummary> {
  const fps = o.fps ?? take.fps;
  const exact = fps === take.fps;
  const params = new ParameterRegistry();
  defineShowParams(params);
  const tempo = new Tempo(take.start.tempo.bpm);
  tempo.origin = take.start.tempo.origin;
  params.on('change', (c) => c.address === BPM && (tempo.bpm = Number(c.value)));
  const scene = take.start.scene;
  // Each input is fed as the show fed it: the show's source choices (older takes: its keyframe
  // loops, which the scene lists), on every model the take plays, where they fit, as live.
  const sources = take.start.sources ?? Object.fromEntries(Object.keys(scene.keyframes).map((input) => [input, 'keyframes']));
  const sound = await TakeSound.open(take);
  let { engine } = await Engine.open({
    model: take.start.structure.model,
    ep: o.ep ?? (scene.model.ep as EpChoice | undefined),
    registry: params,
    compact: false,
    sources,
    sourcesWhereFit: true,
    latent: o.latent,
  });
  let heard: Awaited<ReturnType<TakeSound['heard']>> | undefined;
  try {
    sound?.attach(params, tempo);
    // The scene as it stood, with exactly the edits its playing session served.
    const served = new Set(take.start.structure.edits.map((e) => e.name));
    await applyScene(engine, {
      ...scene,
      partner: take.start.structure.partner ? { path: take.start.structure.partner } : null,
      edits: scene.edits.filter((e) => e.name !== undefined && served.has(e.name)),
    });
    for (const [address, v] of Object.entries(take.start.current)) params.setCurrent(address, v);
    await engine.settled();
    if (!engine.image) throw new Error(`${engine.file}: this model has no image output to render`);
    const modulators = new ModulationBank(params, tempo);
    if (!exact) for (const m of scene.modulators) modulators.add(m);

    const [first0] = take.frames;
    if (sound && first0) {
      // The video's length: every slot from the first to the last (dropped ones repeat), or every frame at the new rate.
      const span = exact ? (take.frames.at(-1)![0] - first0[0] + 1) / fps : Math.max(1, Math.round((take.frames.at(-1)![1] - first0[1] + 1 / take.fps) * fps)) / fps;
      heard = await sound.heard(first0[1], span);
    }
    const rec = await startRecording({
      path: o.out,
      format: o.format,
      width: engine.image.width,
      height: engine.image.height,
      scaleTo: o.size,
      fps,
      audio: heard && { path: heard.path, seconds: heard.seconds },
    });
    let next = 0; // the next log entry to apply
    const apply = async (upTo: (e: TakeEntry) => boolean) => {
      for (; next < take.log.length && upTo(take.log[next]!); next++) {
        const e = take.log[next]!;
        if (e[1] === 's') engine = await bringTo(engine, params, e[2], { ep: o.ep, sources, latent: o.latent });
        else if (e[1] === 'k') applyLatent(engine, { keyframes: e[2], directions: engine.latent.loadedSet ?? null });
        else if (e[1] === 'h') applyLatent(engine, { keyframes: engine.keyframes(), held: e[2], directions: engine.latent.loadedSet ?? null });
        else if (e[1] === 'd') applyLatent(engine, { keyframes: engine.keyframes(), directions: e[2] });
        else if (exact || e[4] !== 'modulator') setLogged(params, e[2], e[3], e[4] as ChangeSource, e[5]);
      }
      await engine.settled();
    };
    try {
      const [first] = take.frames;
      if (!first) throw new Error('this take has no frames');
      if (exact) {
        for (const [i, [index, time, dt]] of take.frames.entries()) {
          await apply((e) => e[0] <= index);
          sound?.frame(i, { index, time, dt });
          const frame = await engine.render({ index, time, dt });
          await rec.ready();
          rec.writeFrame(frame.rgba!, index - first[0]);
          o.onFrame?.(i + 1, take.frames.length);
        }
      } else {
        // Slot times of the take, to place each entry in time at the new rate.
        const timeOf = new Map(take.frames.map(([index, time]) => [index, time]));
        const [, t0] = first;
        const span = take.frames.at(-1)![1] - t0 + 1 / take.fps;
        const total = Math.max(1, Math.round(span * fps));
        for (let j = 0; j < total; j++) {
          const time = t0 + j / fps;
          await apply((e) => (timeOf.get(e[0]) ?? Infinity) <= time + 1e-9);
          sound?.at(time, { index: j, time, dt: j === 0 ? first[2] : 1 / fps });
          modulators.apply(time, j);
          const frame = await engine.render({ index: j, time, dt: j === 0 ? first[2] : 1 / fps });
          await rec.ready();
          rec.writeFrame(frame.rgba!, j);
          o.onFrame?.(j + 1, total);
        }
      }
    } catch (err) {
      await rec.abort();
      throw err;
    }
    return await rec.stop();
  } finally {
    await engine.close();
    await heard?.remove();
  }
}

/** A logged value, as the show set it; one the re-render has no parameter for is skipped. */
function setLogged(params: ParameterRegistry, address: string, value: string | number | boolean, source: ChangeSource, glide: number | null): void {
  if (!params.has(address)) return;
  try {
    params.set(address, value, source, glide ?? undefined);
  } catch {
    // Refused here as it was live (and counted there): the frame saw the last good value.
  }
}

/**
 * Brings the re-render to the structure a live frame rendered with: another model, another
 * partner, and a session holding exactly the edit slots the live one held (retired ones, removed
 * live but still in its session at identity, included), so the graph and its frames are the same.
 * A slot coming into play starts at its amount as it stood live; the values logged after it set
 * the rest. Layers with their own blend amount follow.
 */
async function bringTo(
  engine: Engine,
  params: ParameterRegistry,
  s: TakeStructure,
  o: { ep: EpChoice | undefined; sources: Record<string, string>; latent: LatentPlanOptions | undefined },
): Promise<Engine> {
  if (s.model !== engine.file) {
    // As the live switch did: the show's sources, the loops carried over.
    const { engine: next } = await openNextModel(params, s.model, o.ep, { compact: false, sources: o.sources, latent: o.latent, from: engine });
    await engine.close();
    engine = next;
  }
  if ((s.partner ?? undefined) !== engine.bend.partner) await engine.loadPartner(s.partner ?? undefined);
  for (const e of engine.bend.listEdits()) {
    const w = s.edits.find((x) => x.name === e.name);
    if (!w || !sameEdit(w, e)) engine.removeEdit(e.name);
  }
  const kept = new Set(engine.bend.listEdits().map((e) => e.name));
  for (const e of s.edits) if (!kept.has(e.name)) engine.addEdit(e.target, e.op as EditOp, e.amount, { name: e.name, seed: e.seed, channels: e.channels });
  // Feature-map ops apply in order: the run that matches stays, the rest is laid again in order.
  const have = engine.bend.features.list();
  let same = 0;
  while (same < have.length && same < s.bends.length && have[same]!.name === s.bends[same]!.name && have[same]!.op === s.bends[same]!.op && have[same]!.layer === s.bends[same]!.layer) same++;
  for (const b of have.slice(same)) engine.removeBend(b.name);
  for (const b of s.bends.slice(same)) engine.addBend(b.layer, b.op, b.values, b.name);
  type Slots = Array<{ name: string; retired?: boolean }>;
  const shape = (st: { edits: Slots; bends: Slots }, retired: (x: { retired?: boolean }) => boolean) =>
    JSON.stringify([st.edits.map((e) => [e.name, retired(e)]), st.bends.map((b) => [b.name, retired(b)])]);
  if (shape(engine.structure(), (x) => x.retired === true) !== shape(s, () => false)) await engine.rebuild();
  for (const e of s.edits) if (e.retired) engine.removeEdit(e.name);
  for (const b of s.bends) if (b.retired) engine.removeBend(b.name);
  if (s.partner) engine.bend.setBlends(Object.fromEntries(s.blendLayers.map((l) => [l, params.target(`/netbend/blend/${l}`) as number])));
  await engine.settled();
  return engine;
}
