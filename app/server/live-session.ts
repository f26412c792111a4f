// The composition root of a live show: one registry, one engine, one frame loop, and the edges
// (recorder, WebSocket clients; OSC, MIDI and presets plug in here too). Every command from any
// client lands in `command()`, and every state change leaves through the registry's events.
import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Emitter } from '../core/emitter.ts';
import { ParameterRegistry } from '../core/registry.ts';
import { Engine } from '../engine/engine.ts';
import { FrameLoop, PLAY } from '../engine/frame-loop.ts';
import type { Frame } from '../engine/frame.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';
import type { Layer } from '../engine/onnx/layer-tree.ts';
import type { RecordFormat } from '../record/video-recorder.ts';
import { RecordingDesk, describeDeskEvent } from './recording-desk.ts';
import { STATS_INTERVAL_MS, type Command, type EditInfo, type EngineStats, type LayerInfo, type ParamInfo, type ServerMessage } from '../core/protocol.ts';
import { LoopDelayMonitor } from './loop-delay.ts';
import { ModulationBank } from '../control/modulation.ts';
import { Tempo } from '../control/tempo.ts';
import { OscServer, type OscTarget } from '../io/osc-server.ts';
import { PresetMorph } from '../control/morph.ts';
import { applyScene, captureScene, sceneParams } from '../control/scene.ts';
import { RefusalLog } from '../control/refusal-log.ts';
import { listPresets, loadPreset, savePreset, sweepOrphanTemps, type PresetEntry } from '../control/preset-store.ts';
import type { Preset } from '../control/preset.ts';
import { MidiRouter } from '../control/midi-mapping.ts';
import { openMidi, type MidiPorts } from '../io/midi-ports.ts';
import { ControllerNet } from '../control/controller-net.ts';

export interface LiveOptions {
  /** A model, or a preset naming one. */
  model: string;
  ep?: EpChoice;
  /** OSC UDP port (0 = any free port); undefined = no OSC. */
  oscPort?: number;
  oscHost?: string;
  oscTargets?: OscTarget[];
  /** UDP senders OSC obeys (CIDRs or addresses); undefined = loopback only. */
  oscAllow?: string[];
  /** Folder presets are saved to and listed from. */
  presetsDir?: string;
  /** false: do not open MIDI ports (tests); mappings still work from bytes. */
  midi?: boolean;
  midiInputs?: string[];
  midiOutput?: string;
  /** A regression net driven by parameters, its outputs routed to others. */
  controller?: { file: string; bind: string[]; route: string[] };
  fps?: number;
  seed?: number;
  /** Folder recordings go to. */
  recordDir?: string;
  recordFormat?: RecordFormat;
}

export const BLACKOUT = '/netbend/output/blackout';
export const RECORD = '/netbend/record/on';
/** Recalls the Nth preset of the list (MIDI program change and OSC both land here). */
export const RECALL = '/netbend/preset/recall';
export const TAP_TEMPO = '/netbend/tempo/tap';
export const BPM = '/netbend/tempo/bpm';
export const LOOP_DELAY_P99 = '/netbend/stats/loop_delay_p99';
export const LOOP_DELAY_MAX = '/netbend/stats/loop_delay_max';
/** Parameters that belong to one model and go with it. */
const MODEL_OWNED = ['/netbend/source/', '/netbend/edit/', '/netbend/blend/', '/netbend/outputs/'];

export class LiveSession extends Emitter<{ notice: { level: 'info' | 'warning' | 'error'; text: string }; state: void; frame: Frame; model: void }> {
  readonly params: ParameterRegistry;
  engine: Engine;
  readonly loop: FrameLoop;
  private readonly desk: RecordingDesk;
  private readonly opts: LiveOptions;
  readonly tempo = new Tempo();
  readonly modulators: ModulationBank;
  osc: OscServer | undefined;
  private morph: PresetMorph | undefined;
  presets: string[] = [];
  readonly midi: MidiRouter;
  controller: ControllerNet | undefined;
  midiPorts: MidiPorts | undefined;
  private readonly refusals: RefusalLog;
  private readonly loopDelay: LoopDelayMonitor;

  private constructor(params: ParameterRegistry, engine: Engine, opts: LiveOptions) {
    super();
    this.params = params;
    this.engine = engine;
    this.opts = opts;
    this.desk = new RecordingDesk({
      dir: resolve(opts.recordDir ?? 'recordings'),
      format: opts.recordFormat,
      shape: () => {
        const img = this.engine.image;
        return img ? { width: img.width, height: img.height, fps: this.loop.stats().targetFps } : 'this model has no image output to record';
      },
      onEvent: (e) => {
        const n = describeDeskEvent(e);
        this.notice(n.level, n.text);
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
        this.emit('state', undefined);
      },
      onClock: (kind) => {
        const now = performance.now() / 1000;
        if (kind === 'start') this.tempo.start(now);
        if (kind !== 'tick') return;
        const before = this.tempo.bpm;
        this.tempo.clockTick(now);
        // The clock's tempo is the show's tempo: pages, OSC and presets read it from the parameter.
        if (this.tempo.bpm !== before) this.params.set(BPM, this.tempo.bpm, 'midi');
      },
    });
    this.loop = new FrameLoop(engine, opts.fps ?? 30);
    this.loop.beforeFrame = (t) => {
      for (const e of this.modulators.apply(t.time, t.index)) this.notice('warning', e);
      if (this.morph?.step(t.time)) this.morph = undefined;
      if (this.controller) void this.controller.step().catch((err) => this.notice('error', `controller net: ${(err as Error).message}`));
    };
    params.define({ address: BLACKOUT, type: 'float', default: 0, min: 0, max: 1, smoothing: 0.15, description: 'fade the output to black' });
    params.define({ address: RECORD, type: 'bool', default: false, transient: true, description: 'record the output to video' });
    params.define({ address: RECALL, type: 'int', default: 0, min: 0, max: 127, transient: true, description: 'recall the preset at this position in the list' });
    params.define({ address: BPM, type: 'float', default: 120, min: 20, max: 300, unit: 'bpm', description: 'tempo for beat-synced modulators' });
    params.define({ address: TAP_TEMPO, type: 'trigger', default: false, description: 'tap tempo' });
    // General-purpose knobs: for MIDI/OSC to land on, and for expressions and controller nets to read.
    for (let k = 1; k <= 8; k++) params.define({ address: `/netbend/knobs/k${k}`, type: 'float', default: 0, min: 0, max: 1, description: `knob ${k}` });
    // Event-loop health, readable over OSCQuery (and LISTEN-able) as well as in the page's stats.
    params.define({ address: LOOP_DELAY_P99, type: 'float', default: 0, min: 0, clamp: false, unit: 'ms', readOnly: true, description: 'event-loop delay, 99th percentile of the last stats window' });
    params.define({ address: LOOP_DELAY_MAX, type: 'float', default: 0, min: 0, clamp: false, unit: 'ms', readOnly: true, description: 'event-loop delay, worst of the last stats window' });
    this.loopDelay = new LoopDelayMonitor(STATS_INTERVAL_MS, (w) => {
      params.set(LOOP_DELAY_P99, w.p99, 'engine');
      params.set(LOOP_DELAY_MAX, w.max, 'engine');
    });
    params.on('change', (c) => {
      if (c.address === RECORD) void this.desk.set(c.value === true);
      else if (c.address === RECALL) void this.recall(Number(c.value));
      else if (c.address === BPM) this.tempo.bpm = Number(c.value);
      else if (c.address === TAP_TEMPO) {
        this.tempo.tap(performance.now() / 1000);
        this.params.set(BPM, this.tempo.bpm, 'engine');
      }
    });
    this.loop.on('frame', (f) => {
      this.desk.writeFrame(f.rgba!, f.index);
      this.osc?.flush();
      this.emit('frame', f);
    });
    this.loop.on('error', (e) => this.notice('error', e.message));
    engine.on('warning', (w) => this.notice('warning', w));
    this.refusals = new RefusalLog(params, (text) => this.notice('warning', text));
  }

  static async open(opts: LiveOptions): Promise<{ session: LiveSession; warnings: string[] }> {
    const params = new ParameterRegistry();
    const preset = opts.model.toLowerCase().endsWith('.json') ? await loadPreset(opts.model) : undefined;
    const { engine, warnings } = await Engine.open({ model: preset?.model.path ?? opts.model, ep: opts.ep, seed: opts.seed, registry: params });
    const session = new LiveSession(params, engine, opts);
    try {
      if (preset) warnings.push(...(await session.applyPreset(preset)));
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
      if (opts.oscPort !== undefined) {
        session.osc = new OscServer(params, { port: opts.oscPort, host: opts.oscHost, targets: opts.oscTargets, allow: opts.oscAllow });
        await session.osc.start();
      }
    } catch (err) {
      await session.close();
      throw err;
    }
    // Temp files of saves a kill interrupted would otherwise lie in the folder for ever.
    await sweepOrphanTemps(session.presetsDir);
    // Said with the other start-up warnings: no one listens to notices yet.
    session.presets = (await listPresets(session.presetsDir, { onSkip: (m) => warnings.push(m) })).map((p) => p.name);
    if (preset?.mappings.midi.length) session.midi.fromJSON(preset.mappings.midi);
    if (opts.midi !== false) {
      session.midiPorts = openMidi((bytes) => session.midi.handle(bytes), { virtualName: 'netbend', inputs: opts.midiInputs, output: opts.midiOutput });
      if (!session.midiPorts.available) warnings.push(session.midiPorts.reason!);
    }
    session.loop.start();
    return { session, warnings };
  }

  get presetsDir(): string {
    return resolve(this.opts.presetsDir ?? 'presets');
  }

  /** The presets folder's presets; a file too big to be one is said once, as a warning. */
  listPresets(): Promise<PresetEntry[]> {
    return listPresets(this.presetsDir, { onSkip: (m) => this.notice('warning', m) });
  }

  /**
   * Applies a preset's scene and modulators, switching model first when the preset plays another.
   * OSC and MIDI mappings are untouched by design: they point at addresses, which outlive models.
   */
  async applyPreset(p: Preset): Promise<string[]> {
    if (resolve(p.model.path) !== this.engine.file) await this.switchModel(p.model.path);
    const warnings = await applyScene(this.engine, p);
    this.modulators.clear();
    for (const m of p.modulators) this.modulators.add(m);
    this.emit('state', undefined);
    return warnings;
  }

  /**
   * Loads another model beside the playing one and swaps it in between frames. Parameters the new
   * model also has keep their values (and their mappings); the old model's own ones are removed.
   * If loading fails, the old model plays on.
   */
  async switchModel(file: string): Promise<void> {
    const defined = new Set<string>();
    const off = this.params.on('define', (spec) => defined.add(spec.address));
    let opened: Awaited<ReturnType<typeof Engine.open>>;
    try {
      opened = await Engine.open({ model: file, ep: this.opts.ep, registry: this.params });
    } finally {
      off();
    }
    const old = this.engine;
    this.engine = opened.engine;
    this.loop.setEngine(opened.engine);
    opened.engine.on('warning', (w) => this.notice('warning', w));
    opened.warnings.forEach((w) => this.notice('warning', w));
    for (const prefix of MODEL_OWNED) for (const spec of this.params.list()) if (spec.address.startsWith(prefix) && !defined.has(spec.address)) this.params.remove(spec.address);
    await old.close();
    this.emit('model', undefined);
    this.notice('info', `playing ${opened.engine.file} on ${opened.engine.ep}`);
  }

  notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.emit('notice', { level, text });
  }

  async close(): Promise<void> {
    this.loopDelay.stop();
    await this.loop.stop();
    this.osc?.close();
    this.midiPorts?.close();
    await this.controller?.close();
    await this.desk.close();
    await this.engine.close();
    this.refusals.close();
  }

  stats(): EngineStats {
    const s = this.loop.stats();
    return { ...s, ep: this.engine.ep, refused: this.params.refused, recording: this.desk.stats(), loopDelay: { ...this.loopDelay.last } };
  }

  paramInfo(): ParamInfo[] {
    return this.params.list().map((s) => ({ ...s, value: this.params.target(s.address) }));
  }

  edits(): EditInfo[] {
    return this.engine.bend.listEdits().map((e) => ({ name: e.name, target: e.target, op: e.op, address: e.address }));
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
      taps: e.tapped(),
      presets: this.presets,
    };
  }

  state(): ServerMessage {
    return { type: 'state', partner: this.engine.bend.partner ?? null, edits: this.edits(), presets: this.presets, learning: this.midi.learning ?? null };
  }

  /** Every client command, from the UI, Electron or tests. Errors are thrown as readable messages. */
  async command(c: Command): Promise<unknown> {
    const e = this.engine;
    switch (c.cmd) {
      case 'set':
        this.params.set(c.address, c.value, 'ui');
        return null;
      case 'addEdit': {
        const name = e.addEdit(c.target, c.op, c.amount, { name: c.name });
        this.emit('state', undefined);
        return name;
      }
      case 'removeEdit':
        e.bend.removeEdit(c.edit);
        this.emit('state', undefined);
        return null;
      case 'restore':
        e.bend.restore();
        this.emit('state', undefined);
        return null;
      case 'loadPartner':
        await e.loadPartner(c.path ?? undefined);
        this.emit('state', undefined);
        return null;
      case 'setTaps':
        e.setTaps(c.layers);
        return e.tapped();
      case 'transport':
        this.params.set(PLAY, c.playing, 'ui');
        return null;
      case 'record':
        this.params.set(RECORD, c.on, 'ui');
        return null;
      case 'midiLearn':
        this.midi.learn(c.address ?? undefined);
        this.emit('state', undefined);
        return null;
      case 'savePreset': {
        const name = c.name.trim();
        if (!name) throw new Error('a preset needs a name');
        const file = join(this.presetsDir, `${name.replace(/[^\w.-]+/g, '-')}.json`);
        await mkdir(this.presetsDir, { recursive: true });
        await savePreset(file, captureScene(this.engine, name, { modulators: this.modulators.list(), mappings: { midi: this.midi.toJSON() as unknown as Record<string, unknown>[], osc: [] } }));
        this.presets = (await this.listPresets()).map((p) => p.name);
        this.emit('state', undefined);
        return file;
      }
      case 'loadPreset': {
        const entry = (await this.listPresets()).find((p) => p.name === c.name);
        if (!entry) throw new Error(`no preset "${c.name}" in ${this.presetsDir}`);
        const p = await loadPreset(entry.path);
        if (c.morphSeconds && c.morphSeconds > 0) {
          // Structure (edits, partner, taps) switches now; the numbers glide from where they are.
          const values = this.params.values();
          await this.applyPreset({ ...p, params: {} });
          for (const [a, v] of Object.entries(values)) if (this.params.has(a) && !a.startsWith('/netbend/blend/') && !a.startsWith('/netbend/edit/')) this.params.set(a, v, 'preset');
          const checked = sceneParams(this.params, p);
          checked.warnings.forEach((w) => this.notice('warning', w));
          this.morph = new PresetMorph(this.params, checked.values, c.morphSeconds);
        } else {
          for (const w of await this.applyPreset(p)) this.notice('warning', w);
        }
        return entry.path;
      }
      default:
        throw new Error(`unknown command ${JSON.stringify((c as { cmd?: unknown }).cmd)}`);
    }
  }

  /** Preset bank: program change / OSC recall N loads the Nth preset of the folder. */
  private async recall(n: number): Promise<void> {
    const list = await this.listPresets();
    const entry = list[n];
    if (!entry) return this.notice('warning', `no preset at position ${n} (${list.length} presets in ${this.presetsDir})`);
    try {
      for (const w of await this.applyPreset(await loadPreset(entry.path))) this.notice('warning', w);
      this.notice('info', `preset ${entry.name}`);
    } catch (err) {
      this.notice('error', (err as Error).message);
    }
  }
}

function splitPair(flag: string, spec: string): [string, string] {
  const i = spec.indexOf('=');
  if (i <= 0) throw new Error(`${flag} "${spec}": expected <name>=<parameter>`);
  return [spec.slice(0, i), spec.slice(i + 1)];
}
