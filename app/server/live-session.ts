// The composition root of a live show: one registry, one engine, one frame loop, the scene (every
// move from any edge goes through it: values in the registry, structure as queued, undoable
// actions), and the edges, handed in as ports (clock, OSC carrier, MIDI, recorder, presets; see
// show-ports.ts; WebSocket clients plug in outside). A page's commands land in `command()` and
// become the same moves OSC and MIDI make.
import { dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Emitter } from '../core/emitter.ts';
import { ParameterRegistry } from '../core/registry.ts';
import { Engine } from '../engine/engine.ts';
import { FrameLoop, PLAY } from '../engine/frame-loop.ts';
import type { FrameClock } from '../engine/clock.ts';
import type { Frame } from '../engine/frame.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';
import type { Layer } from '../engine/onnx/layer-tree.ts';
import { RecordingDesk, describeDeskEvent, type DeskEvent } from './recording-desk.ts';
import { FEATURE_OPS, isFeatureOp } from '../engine/bend/feature-ops.ts';
import { STATS_INTERVAL_MS, type BendInfo, type Command, type EditInfo, type EngineStats, type LayerInfo, type ParamInfo, type ServerMessage } from '../core/protocol.ts';
import { LoopDelayMonitor } from './loop-delay.ts';
import { slowGuidance } from './slow-guidance.ts';
import { decodeSketchPng } from './sketch-png.ts';
import { ModulationBank } from '../control/modulation.ts';
import { Tempo } from '../control/tempo.ts';
import { OscServer, type OscTarget } from '../io/osc-server.ts';
import { RefusalLog } from '../control/refusal-log.ts';
import { loadPreset, type PresetEntry, type PresetStore } from '../control/preset-store.ts';
import { DirectionFolder } from '../control/direction-sets.ts';
import { DIRECTIONS } from '../scene/direction-moves.ts';
import type { Preset } from '../control/preset.ts';
import { MidiRouter } from '../control/midi-mapping.ts';
import type { MidiPorts } from '../io/midi-ports.ts';
import type { ShowPorts } from './show-ports.ts';
import { MidiDesk } from './midi-desk.ts';
import { ControllerNet } from '../control/controller-net.ts';
import { ShowScene } from '../scene/show-scene.ts';
import { ModelFolders, TRACKS } from '../scene/model-folders.ts';
import { ModelLibrary } from '../scene/model-library.ts';
import { openNextModel } from '../scene/switch-model.ts';
import { defineShowParams } from '../scene/show-params.ts';
import { TakeLog } from '../scene/take-log.ts';
import { saveTake } from '../scene/take.ts';
import { TakeAudioWriter } from '../audio/take-audio.ts';
import { BPM, LOOP_DELAY_MAX, LOOP_DELAY_P99, RECALL, RECORD, TAP_TEMPO, WEK_OUTPUTS, midiMove } from '../core/addresses.ts';
import { LearnDesk, type PlayedMapper } from '../scene/learn-desk.ts';
import { compilePattern, matches } from '../io/osc-pattern.ts';
import { SeedGridDesk } from '../engine/seed-grid.ts';
import { followTempo } from '../engine/sources/keyframe-loop.ts';
import { FfmpegCapture } from '../audio/ffmpeg-capture.ts';
import { decodePcm } from '../audio/pcm-file.ts';
import type { PcmBuffer } from '../audio/pcm-source.ts';
import type { LatentPlanOptions } from '../engine/latent/latent-plan.ts';
import { AudioDesk, TRACK_LOAD, TRACK_POSITION, TRACK_UNLOAD, defineTrackMoves } from './audio-desk.ts';

export interface LiveOptions {
  /** A model, or a preset naming one. */
  model: string;
  ep?: EpChoice;
  /** Where changed values are sent over OSC. */
  oscTargets?: OscTarget[];
  /** OSC senders obeyed (CIDRs or addresses); undefined = loopback only. */
  oscAllow?: string[];
  /** Folders models may be loaded from by name (besides the repo's models/, the user's and the playing model's). */
  modelDirs?: string[];
  /** A regression net driven by parameters, its outputs routed to others. */
  controller?: { file: string; bind: string[]; route: string[] };
  seed?: number;
  /** Per input, a source kind instead of the one its shape picks (`keyframes` for a seed grid's jumps and keyframe loops). */
  sources?: Record<string, string>;
  /** W space estimation (how many z are sampled for w_avg and the directions; tests ask for fewer), for every model the show plays. */
  latent?: LatentPlanOptions;
  /** How long MIDI learn waits for a control before it gives up (default 10 s). */
  midiLearnSeconds?: number;
  /** Defines /netbend/audio/* at start, for an analyser elsewhere that sends the features over OSC (a page's capture defines them anyway). */
  audioOsc?: boolean;
  /** A sound file played as the show's track from its first frame (its folder becomes a track folder). */
  track?: string;
  /** A capture on this machine through ffmpeg, `<format>:<device>` (pulse:default, alsa:hw:0, lavfi:sine=frequency=60). */
  audioIn?: string;
  /** Folders tracks may be loaded from by name (besides the user's $NETBEND_HOME/audio and --track's folder). */
  trackDirs?: string[];
}

export { BLACKOUT, BPM, LOCK, RECALL, RECORD, TAP_TEMPO } from '../core/addresses.ts';
export { LOOP_DELAY_MAX, LOOP_DELAY_P99 } from '../core/addresses.ts';
/** The repo's own models/ folder: always one of the model folders. */
const REPO_MODELS = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
/** The user's own model folder: $NETBEND_HOME/models, by default ~/.netbend/models. */
const USER_MODELS = join(process.env.NETBEND_HOME ?? join(homedir(), '.netbend'), 'models');
/** The user's own track folder: $NETBEND_HOME/audio. */
const USER_TRACKS = join(process.env.NETBEND_HOME ?? join(homedir(), '.netbend'), 'audio');

export class LiveSession extends Emitter<{ notice: { level: 'info' | 'warning' | 'error'; text: string }; state: void; frame: Frame; model: void }> {
  readonly params: ParameterRegistry;
  /** The seed grid of the engine playing now (seedGrid / seedPick commands). */
  private readonly seedGrid = new SeedGridDesk(
    () => this.engine,
    () => this.loop.clock.now(),
  );
  engine: Engine;
  readonly loop: FrameLoop;
  private readonly desk: RecordingDesk;
  private readonly opts: LiveOptions;
  /** The show's time (frames, taps, MIDI clock): the clock port. */
  readonly clock: FrameClock;
  readonly presetStore: PresetStore;
  readonly tempo = new Tempo();
  readonly modulators: ModulationBank;
  osc: OscServer | undefined;
  readonly scene: ShowScene;
  readonly folders: ModelFolders;
  /** Where the show's track may be loaded from by name. */
  readonly trackFolders: ModelFolders;
  /** The model folders' files for the page's browser (descriptions and thumbnails off the frame path). */
  readonly library: ModelLibrary;
  /** Where models dropped onto the page are saved: the user's model folder. */
  readonly uploadDir: string;
  presets: string[] = [];
  /** The take being logged beside the recording, and the last frame it logged. */
  private take: { log: TakeLog; path: string; frame: number; audio: TakeAudioWriter } | undefined;
  readonly midi: MidiRouter;
  controller: ControllerNet | undefined;
  /** Take logs being written; close() waits for them. */
  private readonly savingTakes = new Set<Promise<void>>();
  /** Live learning: examples, training, and the mapping it plays. */
  readonly learn: LearnDesk;
  /** The trained mapping playing now (a controller net); each one played gets its own name. */
  mapping: ControllerNet | undefined;
  private mappings = 0;
  /** The mapping's outputs after its last run, and whether a frame found it busy since. */
  private mappingOut: number[] = [];
  private mappingMissed = false;
  midiPorts: MidiPorts | undefined;
  /** MIDI as pages see it: the ports' status, learn with its time limit. */
  readonly midiDesk: MidiDesk;
  /** Live audio: a page's capture placed in show time, its features set before each frame's modulators. */
  readonly audio: AudioDesk;
  /** serve --audio-in: ffmpeg capturing on this machine. */
  private readonly refusals: RefusalLog;
  private readonly loopDelay: LoopDelayMonitor;
  private unwatchPresets: () => void = () => {};

  private constructor(params: ParameterRegistry, engine: Engine, opts: LiveOptions, ports: ShowPorts) {
    super();
    this.params = params;
    this.engine = engine;
    this.opts = opts;
    this.clock = ports.clock;
    this.presetStore = ports.presets;
    this.desk = new RecordingDesk({
      recorder: ports.recorder,
      queue: (job) => this.scene.actions.queue.run(job),
      shape: () => {
        const img = this.engine.image;
        return img ? { width: img.width, height: img.height, fps: this.loop.stats().targetFps } : 'this model has no image output to record';
      },
      onEvent: (e) => {
        const n = describeDeskEvent(e);
        this.notice(n.level, n.text);
        this.takeEvent(e);
        // The switch must say what is happening: a take that could not start or broke is off.
        if (e.kind === 'refused' || e.kind === 'broke') this.params.set(RECORD, false, 'engine');
      },
    });
    this.modulators = new ModulationBank(params, this.tempo);
    this.midi = new MidiRouter(params, {
      send: (bytes) => this.midiPorts?.send(bytes),
      onProgram: (n) => this.params.set(RECALL, n, 'midi'),
      onLearn: (m) => {
        this.notice('info', `MIDI learn: ${m.kind} ${m.number} on channel ${Number(m.channel) + 1} -> ${m.param}`);
        this.midiDesk.learned(m);
      },
      onClock: (kind) => {
        const now = this.clock.now();
        if (kind === 'start') this.tempo.start(now);
        if (kind !== 'tick') return;
        const before = this.tempo.bpm;
        this.tempo.clockTick(now);
        // The clock's tempo is the show's tempo: pages, OSC and presets read it from the parameter.
        if (this.tempo.bpm !== before) this.params.set(BPM, this.tempo.bpm, 'midi');
      },
    });
    // Pages see every mapping: each change of the list (learn, an edit, a preset, an undo) is news.
    this.midi.on('change', () => this.emit('state', undefined));
    this.midiDesk = new MidiDesk({
      router: this.midi,
      ports: () => this.midiPorts,
      learnSeconds: opts.midiLearnSeconds,
      notice: (level, text) => this.notice(level, text),
      announce: () => this.emit('state', undefined),
    });
    this.loop = new FrameLoop(engine, ports.clock);
    this.audio = new AudioDesk({
      params,
      tempo: this.tempo,
      now: () => this.clock.now(),
      notice: (level, text) => this.notice(level, text),
      playing: () => params.get(PLAY) !== false,
      invalidate: () => this.loop.invalidate(),
    });
    if (opts.audioOsc) this.audio.ensure();
    this.loop.beforeFrame = (t) => {
      this.audio.frame(t);
      for (const e of this.modulators.apply(t.time, t.index)) this.notice('warning', e);
      this.scene.beforeFrame(t.time);
      this.learn.frame();
      if (this.controller) void this.controller.step().catch((err) => this.notice('error', `controller net: ${(err as Error).message}`));
      this.stepMapping();
      // Last, so the take sees every value this frame renders with. A paused preview is no slot.
      if (this.take && this.desk.recording && !t.preview) {
        this.take.log.frame(t);
        this.take.audio.frame(this.audio.lastRead, this.audio.stateBefore);
        this.audio.wantState = false;
        this.take.frame = t.index;
      }
    };
    defineShowParams(params);
    this.uploadDir = USER_MODELS;
    this.folders = new ModelFolders([REPO_MODELS, USER_MODELS, dirname(engine.file), ...(opts.modelDirs ?? [])]);
    this.trackFolders = new ModelFolders([USER_TRACKS, ...(opts.track ? [dirname(resolve(opts.track))] : []), ...(opts.trackDirs ?? [])], TRACKS);
    this.library = new ModelLibrary(this.folders, () => ({ file: this.engine.file, info: this.engine.info }));
    this.scene = new ShowScene({
      params,
      modulators: this.modulators,
      midi: this.midi,
      folders: this.folders,
      directionSets: new DirectionFolder(join(ports.presets.where, 'directions')),
      engine: () => this.engine,
      switchModel: (file) => this.switchModel(file),
      presetFile: async (name) => {
        const entry = (await this.listPresets()).find((p) => p.name === name);
        if (!entry) throw new Error(`no preset "${name}" in ${this.presetStore.where}`);
        return entry.path;
      },
      presetAt: async (n) => (await this.listPresets())[n],
      loadPresetFile: (path) => this.presetStore.load(path),
      savePresetFile: (name, p) => this.savePresetAs(name, p),
      notice: (level, text) => this.notice(level, text),
      announce: () => this.emit('state', undefined),
    });
    this.learn = new LearnDesk({
      params,
      actions: this.scene.actions,
      dir: ports.presets.where,
      expand: (pattern) => {
        const p = compilePattern(pattern);
        return params
          .list()
          .map((s) => s.address)
          .filter((a) => matches(p, a));
      },
      play: (m) => this.playMapping(m),
      notice: (level, text) => this.notice(level, text),
      announce: () => this.emit('state', undefined),
    });
    // Event-loop health, readable over OSCQuery (and LISTEN-able) as well as in the page's stats.
    params.define({ address: LOOP_DELAY_P99, type: 'float', default: 0, min: 0, clamp: false, unit: 'ms', readOnly: true, description: 'event-loop delay, 99th percentile of the last stats window' });
    params.define({ address: LOOP_DELAY_MAX, type: 'float', default: 0, min: 0, clamp: false, unit: 'ms', readOnly: true, description: 'event-loop delay, worst of the last stats window' });
    this.loopDelay = new LoopDelayMonitor(STATS_INTERVAL_MS, (w) => {
      params.set(LOOP_DELAY_P99, w.p99, 'engine');
      params.set(LOOP_DELAY_MAX, w.max, 'engine');
    });
    params.on('change', (c) => {
      if (c.address === RECORD) void this.desk.set(c.value === true);
      else if (c.address === RECALL) void this.scene.recall(Number(c.value), c.source);
      else if (c.address === BPM) this.tempo.bpm = Number(c.value);
      else if (c.address === PLAY) this.audio.transport(c.value === true);
      else if (c.address === TAP_TEMPO) {
        this.tempo.tap(this.clock.now());
        this.params.set(BPM, this.tempo.bpm, 'engine');
      }
    });
    // Keyframe loops in beats count the show's beats (a new model's loops take the tempo as they come).
    followTempo(params, this.tempo.bpm);
    params.on('change', (c) => c.address === BPM && followTempo(params, this.tempo.bpm));
    params.on('define', (spec) => spec.address.endsWith('/loopEnd') && followTempo(params, this.tempo.bpm));
    this.loop.on('frame', (f) => {
      // A take's video holds exactly the frames its log saw, so a re-render lines up frame for frame.
      if (this.take?.frame === f.index && !f.preview) this.desk.writeFrame(f.rgba!, f.index);
      this.osc?.flush();
      this.emit('frame', f);
    });
    this.loop.on('error', (e) => this.notice('error', e.message));
    engine.on('warning', (w) => this.notice('warning', w));
    this.refusals = new RefusalLog(params, (text) => this.notice('warning', text));
  }

  static async open(opts: LiveOptions, ports: ShowPorts): Promise<{ session: LiveSession; warnings: string[] }> {
    // First: a track that is not sound, or a device that is not there, is said before the model loads.
    const track = opts.track ? await decodePcm(resolve(opts.track)) : undefined;
    const capture = opts.audioIn ? await FfmpegCapture.open(opts.audioIn) : undefined;
    try {
      return await LiveSession.openWith(opts, ports, capture, track);
    } catch (err) {
      capture?.stop();
      throw err;
    }
  }

  private static async openWith(opts: LiveOptions, ports: ShowPorts, capture: FfmpegCapture | undefined, track: PcmBuffer | undefined): Promise<{ session: LiveSession; warnings: string[] }> {
    const params = new ParameterRegistry();
    const preset = opts.model.toLowerCase().endsWith('.json') ? await loadPreset(opts.model) : undefined;
    const { engine, warnings } = await Engine.open({ model: preset?.model.path ?? opts.model, ep: opts.ep, seed: opts.seed, sources: opts.sources, latent: opts.latent, registry: params });
    const session = new LiveSession(params, engine, opts, ports);
    try {
      if (preset) warnings.push(...(await session.scene.loadPreset(opts.model, { source: 'cli' })));
      defineTrackMoves(session.scene.actions, session.audio, session.trackFolders);
      // Before the first frame: the track's time 0 is the show's, as in a render.
      if (opts.track) await session.audio.loadTrack(session.trackFolders.resolve(resolve(opts.track)), track);
      if (opts.controller) {
        session.controller = await ControllerNet.open(opts.controller.file, params, 'mlp');
        for (const b of opts.controller.bind) {
          const [input, from] = splitPair('--bind', b);
          session.controller.bind(/^\d+$/.test(input) ? Number(input) : input, from);
        }
        for (const r of opts.controller.route) {
          const [output, to] = splitPair('--route', r);
          session.controller.route(/^\d+$/.test(output) ? Number(output) : output, to);
        }
      }
      if (ports.osc) {
        session.osc = new OscServer(params, { transport: ports.osc, targets: opts.oscTargets, allow: opts.oscAllow, moves: session.scene.actions, sends: (a) => session.audio.sends(a) });
        await session.osc.start();
      }
    } catch (err) {
      await session.close();
      throw err;
    }
    // Temp files of saves a kill interrupted would otherwise lie in the folder for ever.
    await ports.presets.sweep();
    // Said with the other start-up warnings: no one listens to notices yet.
    session.presets = (await ports.presets.list((m) => warnings.push(m))).map((p) => p.name);
    if (preset?.mappings.midi.length) session.midi.fromJSON(preset.mappings.midi);
    session.unwatchPresets = ports.presets.watch(() => void session.refreshPresets());
    if (ports.midi) {
      session.midiPorts = ports.midi((bytes) => session.midi.handle(bytes));
      if (!session.midiPorts.available) warnings.push(session.midiPorts.reason!);
    }
    session.loop.start();
    if (capture) session.audio.attach(capture);
    return { session, warnings };
  }

  /**
   * The show's mapping: a trained mapper played as a controller net, its inputs bound to the
   * parameters it learned from and its outputs driving the targets as they are (already in their
   * units). A new one opens beside the one playing (its engine in its own worker) and takes over
   * between frames; the old one closes after any run under way, which then writes nothing.
   * undefined stops it.
   */
  private async playMapping(m: PlayedMapper | undefined): Promise<void> {
    const old = this.mapping;
    if (!m) {
      this.mapping = undefined;
      await old?.close();
      return;
    }
    const next = await ControllerNet.open(m.file, this.params, `learn${++this.mappings}`, { sources: { x: 'params' } });
    try {
      const [ins, outs] = [next.inputs().length, next.outputs().length];
      if (ins !== m.inputs.length || outs !== m.targets.length)
        throw new Error(`${m.file} takes ${ins} inputs and gives ${outs} outputs, but its card names ${m.inputs.length} and ${m.targets.length}`);
      m.inputs.forEach((address, i) => next.bind(i, address));
      m.targets.forEach((address, i) => next.route(i, address, 'as-is'));
    } catch (err) {
      await next.close();
      throw err;
    }
    this.mapping = next;
    await old?.close();
  }

  /**
   * Runs the mapping for this frame; its outputs also go out as /wek/outputs, and new ones show
   * even while paused (the held moment renders again). One that breaks stops, said once.
   */
  private stepMapping(): void {
    const mapping = this.mapping;
    if (!mapping) return;
    mapping.step().then(
      (ran) => {
        if (this.mapping !== mapping) return;
        // Still busy with the run before: that run's end asks for another frame (paused, none would come).
        if (!ran) return void (this.mappingMissed = true);
        const values = mapping.values();
        this.osc?.sendFloats(WEK_OUTPUTS, values);
        if (this.mappingMissed || values.some((v, i) => v !== this.mappingOut[i])) this.loop.invalidate();
        this.mappingMissed = false;
        this.mappingOut = values;
      },
      (err: Error) => {
        if (this.mapping !== mapping) return;
        this.mapping = undefined;
        void mapping.close();
        this.learn.stopped(err.message);
      },
    );
  }

  /** The preset names again; pages hear of it when they changed (a file dropped into the folder). */
  private async refreshPresets(): Promise<void> {
    const names = (await this.listPresets()).map((p) => p.name);
    if (names.join('\n') === this.presets.join('\n')) return;
    this.presets = names;
    this.emit('state', undefined);
  }

  /** The store's presets; a file too big to be one is said once, as a warning. */
  listPresets(): Promise<PresetEntry[]> {
    return this.presetStore.list((m) => this.notice('warning', m));
  }

  /**
   * Loads another model beside the playing one and swaps it in between frames. Parameters the new
   * model also has keep their values (and their mappings); the old model's own ones are removed.
   * If loading fails, the old model plays on. Called by the scene, in its queue.
   */
  private async switchModel(file: string): Promise<void> {
    // The show's source choices and its keyframe loops go with it (where the new model's inputs take them).
    const opened = await openNextModel(this.params, file, this.opts.ep, { sources: this.opts.sources, latent: this.opts.latent, from: this.engine });
    const old = this.engine;
    this.engine = opened.engine;
    this.loop.setEngine(opened.engine);
    this.folders.add(dirname(opened.engine.file));
    opened.engine.on('warning', (w) => this.notice('warning', w));
    opened.warnings.forEach((w) => this.notice('warning', w));
    await old.close();
    this.emit('model', undefined);
    this.notice('info', `playing ${opened.engine.file} on ${opened.engine.ep}`);
  }

  private async savePresetAs(name: string, p: Preset): Promise<string> {
    const file = await this.presetStore.save(name, p);
    this.presets = (await this.listPresets()).map((e) => e.name);
    this.emit('state', undefined);
    return file;
  }

  /** A take starts and ends with its recording: logged beside it, saved as <video>.take.json. */
  private takeEvent(e: DeskEvent): void {
    if (e.kind === 'started') {
      const img = this.engine.image!;
      const engine = () => this.engine;
      const log = new TakeLog({
        params: this.params,
        fps: this.clock.fps,
        width: img.width,
        height: img.height,
        scene: () => this.scene.capture('take'),
        structure: () => engine().structure(),
        range: () => engine().range,
        tempo: () => ({ bpm: this.tempo.bpm, origin: this.tempo.origin }),
        latent: () => ({ keyframes: engine().keyframes(), held: engine().held(), directions: engine().latent.loadedSet ?? null }),
        sources: takeSources(this.opts.sources),
      });
      this.take = { log, path: e.path, frame: -1, audio: new TakeAudioWriter(takeAudioPathFor(e.path)) };
      this.audio.wantState = true;
      this.audio.stateBefore = undefined;
      return;
    }
    const take = this.take;
    if (!take || !('path' in e ? e.path === take.path : e.kind === 'saved' && e.summary.path === take.path)) return;
    this.take = undefined;
    take.log.close();
    const logged = e.kind === 'saved' ? take.log.take(e.summary.path) : undefined;
    if (e.kind !== 'saved' || !logged) {
      void take.audio.abort();
      return;
    }
    // The video has e.summary.frames slots from the first logged frame: the take keeps those only.
    const first = logged.frames[0]![0];
    const frames = logged.frames.filter(([i]) => i - first < e.summary.frames);
    const last = frames.at(-1)![0];
    const file = takePathFor(e.summary.path);
    const saving = take.audio
      .close(frames.length)
      .catch((err: Error) => {
        this.notice('error', `the take's sound could not be saved: ${err.message}`);
        return undefined;
      })
      .then((audio) => saveTake(file, { ...logged, frames, log: logged.log.filter((x) => x[0] <= last), ...(audio ? { audio } : {}) }))
      .then(
        () => this.notice('info', `performance log saved to ${file}: render it again with netbend render --take ${file}`),
        (err: Error) => this.notice('error', `the take log could not be saved: ${err.message}`),
      );
    this.savingTakes.add(saving);
    void saving.finally(() => this.savingTakes.delete(saving));
  }

  notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.emit('notice', { level, text });
  }

  async close(): Promise<void> {
    this.unwatchPresets();
    this.loopDelay.stop();
    this.audio.closeMachine();
    await this.loop.stop();
    this.osc?.close();
    this.midiPorts?.close();
    this.midiDesk.close();
    this.learn.close();
    await this.controller?.close();
    await this.mapping?.close();
    await this.desk.close();
    // A take log being written when the show ends is finished first (a SIGTERM left its .tmp).
    await Promise.allSettled(this.savingTakes);
    await this.seedGrid.close();
    await this.engine.close();
    this.refusals.close();
  }

  stats(): EngineStats {
    const s = { ...this.loop.stats(), ep: this.engine.ep };
    return { ...s, refused: this.params.refused, recording: this.desk.stats(), loopDelay: { ...this.loopDelay.last }, slow: slowGuidance(s) };
  }

  paramInfo(): ParamInfo[] {
    return this.params.list().map((s) => ({ ...s, value: this.params.target(s.address) }));
  }

  edits(): EditInfo[] {
    return this.engine.bend.listEdits().map((e) => ({ name: e.name, target: e.target, op: e.op, address: e.address }));
  }

  bends(): BendInfo[] {
    return this.engine.bend.features.list();
  }

  hello(): ServerMessage {
    const e = this.engine;
    const layer = (l: Layer): LayerInfo => ({ path: l.path, shape: l.outputShape, weights: l.weights.length, tappable: !!l.output, children: l.children.map(layer) });
    return {
      type: 'hello',
      model: e.file,
      width: e.image?.width ?? 0,
      height: e.image?.height ?? 0,
      layers: e.tree.roots.map(layer),
      params: this.paramInfo(),
      partner: e.bend.partner ?? null,
      edits: this.edits(),
      bends: this.bends(),
      taps: e.tapped(),
      presets: this.presets,
      modulators: this.modulators.list(),
      sketches: e.sketchInputs(),
      midi: this.midiDesk.info(this.midi.list()),
      learn: this.learn.info(),
      directionSet: this.engine.latent.loadedSet?.name ?? null,
    };
  }

  state(): ServerMessage {
    return {
      type: 'state',
      partner: this.engine.bend.partner ?? null,
      edits: this.edits(),
      bends: this.bends(),
      presets: this.presets,
      learning: this.midi.learning ?? null,
      modulators: this.modulators.list(),
      midi: this.midiDesk.info(this.midi.list()),
      learn: this.learn.info(),
      directionSet: this.engine.latent.loadedSet?.name ?? null,
    };
  }

  /**
   * Every client command, from the UI, Electron or tests: the same moves OSC and MIDI make, through
   * the scene. Errors are thrown as readable messages.
   */
  async command(c: Command): Promise<unknown> {
    const move = (address: string, ...args: unknown[]) => this.scene.move(address, args, 'ui');
    switch (c.cmd) {
      case 'set':
        this.params.set(c.address, c.value, 'ui');
        return null;
      case 'addEdit':
        return move('/netbend/edit/add', c.name ?? '-', c.target, c.op, c.amount);
      case 'removeEdit':
        if (!this.scene.actions.has(`/netbend/edit/${c.edit}/remove`)) throw new Error(`no edit named "${c.edit}"`);
        return move(`/netbend/edit/${c.edit}/remove`);
      case 'restore':
        return move('/netbend/edit/clear');
      case 'addBend': {
        // The op and its first values in one move (one undo step); the other values follow as sets.
        const { amount, channels, ...rest } = c.values ?? {};
        const neutral = isFeatureOp(c.op) ? Number(FEATURE_OPS[c.op].amount.default) : 0;
        const args = channels === undefined ? (amount === undefined ? [] : [amount]) : [amount ?? neutral, channels];
        const name = await move('/netbend/bend/add', c.name ?? '-', c.layer, c.op, ...args);
        for (const [key, v] of Object.entries(rest)) this.params.set(`/netbend/bend/${String(name)}/${key}`, v, 'ui');
        return name;
      }
      case 'removeBend':
        if (!this.scene.actions.has(`/netbend/bend/${c.bend}/remove`)) throw new Error(`no bend named "${c.bend}"`);
        return move(`/netbend/bend/${c.bend}/remove`);
      case 'clearBends':
        return move('/netbend/bend/clear');
      case 'moveBend':
        if (!this.scene.actions.has(`/netbend/bend/${c.bend}/move`)) throw new Error(`no bend named "${c.bend}"`);
        return move(`/netbend/bend/${c.bend}/move`, c.index);
      case 'loadPartner':
        return c.path === null ? move('/netbend/partner/unload') : move('/netbend/partner/load', c.path);
      case 'loadModel':
        return move('/netbend/model/load', c.file, ...(c.confirm ? [1] : []));
      case 'setTaps':
        return this.scene.setPageTaps(c.layers);
      case 'transport':
        this.params.set(PLAY, c.playing, 'ui');
        return null;
      case 'record':
        this.params.set(RECORD, c.on, 'ui');
        return null;
      case 'learn':
        return move(`/netbend/learn/${c.move}`, ...c.args);
      case 'midiLearn':
        this.midiDesk.learn(c.address);
        return null;
      case 'midiEdit': {
        // Each field is its own move (and undo step), as OSC would send it.
        if (!this.midi.get(c.mapping)) throw new Error(`no MIDI mapping "${c.mapping}"`);
        const moves: Array<[Parameters<typeof midiMove>[1], unknown[]]> = [];
        if (c.range) moves.push(['range', c.range]);
        if (c.curve) moves.push(['curve', [c.curve]]);
        if (c.invert !== undefined) moves.push(['invert', [c.invert ? 1 : 0]]);
        if (c.takeover) moves.push(['takeover', [c.takeover]]);
        if (!moves.length) throw new Error('midiEdit: nothing to change (give range, curve, invert or takeover)');
        for (const [what, args] of moves) await move(midiMove(c.mapping, what), ...args);
        return this.midi.get(c.mapping);
      }
      case 'midiRemove':
        if (!this.scene.actions.has(midiMove(c.mapping, 'remove'))) throw new Error(`no MIDI mapping "${c.mapping}"`);
        await move(midiMove(c.mapping, 'remove'));
        return null;
      case 'savePreset':
        return move('/netbend/preset/save', c.name);
      case 'loadPreset': {
        await move('/netbend/preset/load', c.name, c.morphSeconds ?? 0, c.at ?? 'start', c.confirm ? 1 : 0);
        return c.name;
      }
      case 'addModulator':
        return move('/netbend/mod/add', c.target, c.kind, c.source);
      case 'setModulator':
      case 'muteModulator':
      case 'removeModulator': {
        const verb = c.cmd === 'setModulator' ? 'set' : c.cmd === 'muteModulator' ? 'mute' : 'remove';
        const address = `/netbend/mod/${c.mod}/${verb}`;
        if (!this.scene.actions.has(address)) throw new Error(`no modulator "${c.mod}"`);
        return move(address, ...(c.cmd === 'setModulator' ? [c.source] : c.cmd === 'muteModulator' ? [c.muted ? 1 : 0] : []));
      }
      case 'sketch':
        this.engine.setSketch(c.input, decodeSketchPng(c.png));
        return null;
      case 'seedGrid':
        return this.seedGrid.render(c);
      case 'seedPick':
        // A kept cell (and a jump, which drops the loop's keyframes) is one undo step.
        return this.scene.change(() => this.seedGrid.pick(c.index, c.action, c.glide));
      case 'directions':
        if ((c.action === 'save' || c.action === 'load') && c.name === undefined) throw new Error(`directions ${c.action}: give a name`);
        return move(`${DIRECTIONS}/${c.action}`, ...(c.action === 'save' || c.action === 'load' ? [c.name] : []));
      case 'undo':
        return move('/netbend/undo');
      case 'redo':
        return move('/netbend/redo');
      case 'track': {
        // One of the three, as the track's moves.
        const given = [c.load !== undefined, c.position !== undefined, c.unload === true].filter(Boolean).length;
        if (given !== 1) throw new Error('track: give one of load (a file), position (seconds) or unload');
        if (c.load !== undefined) return move(TRACK_LOAD, c.load);
        if (c.position !== undefined) return move(TRACK_POSITION, c.position);
        return move(TRACK_UNLOAD);
      }
      case 'audioCapture':
        throw new Error("audioCapture is a page's own command: send it over /ws");
      default:
        throw new Error(`unknown command ${JSON.stringify((c as { cmd?: unknown }).cmd)}`);
    }
  }
}

/** Where a recording's take log goes: beside it, named after it. */
export function takePathFor(video: string): string {
  return video.replace(/(\.(mp4|mov))?$/i, '.take.json');
}

/** ...and the sound that drove its features. */
export function takeAudioPathFor(video: string): string {
  return video.replace(/(\.(mp4|mov))?$/i, '.take.wav');
}

/** The show's source choices as a take keeps them: an image source's file as an absolute path. */
function takeSources(sources: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(sources ?? {}).map(([input, kind]) => [input, kind.trim().startsWith('image:') ? `image:${resolve(kind.trim().slice(6).trim())}` : kind]));
}

function splitPair(flag: string, spec: string): [string, string] {
  const i = spec.indexOf('=');
  if (i <= 0) throw new Error(`${flag} "${spec}": expected <name>=<parameter>`);
  return [spec.slice(0, i), spec.slice(i + 1)];
}
