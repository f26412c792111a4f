// The show's scene: every move a performer makes, from any edge, goes through here. Values move in
// the registry; structural moves (a model, a partner, edit slots, taps, presets, undo) are actions
// with OSC addresses, run one at a time through one queue, each one an undo step. One change
// event says what moved, whoever moved it.
import { canonicalPath } from '../engine/onnx/model-file.ts';
import { Emitter } from '../core/emitter.ts';
import type { ChangeSource, ParameterRegistry } from '../core/registry.ts';
import type { ParamValue } from '../core/param-types.ts';
import type { Engine } from '../engine/engine.ts';
import type { EditOp } from '../engine/bend/edit-ops.ts';
import { EDIT_OPS } from '../engine/bend/edit-ops.ts';
import type { ModulationBank } from '../control/modulation.ts';
import type { MidiRouter } from '../control/midi-mapping.ts';
import { PresetMorph } from '../control/morph.ts';
import { parseLfo, type LfoSpec } from '../control/lfo.ts';
import { applyScene, captureScene, presetEdits, sceneParams } from '../control/scene.ts';
import type { Preset } from '../control/preset.ts';
import { ActionRegistry, type ActionArgValue } from './actions.ts';
import { defineMidiMoves } from './midi-moves.ts';
import { defineBendMoves } from './bend-moves.ts';
import { defineDirectionMoves } from './direction-moves.ts';
import type { DirectionFolder } from '../control/direction-sets.ts';
import { SceneHistory } from './history.ts';
import type { ModelFolders } from './model-folders.ts';
import { LOCK } from '../core/addresses.ts';

/** What moved: a value (from the registry), or a structural move (an action that ran). */
export type SceneChange =
  | { kind: 'value'; address: string; value: ParamValue; previous: ParamValue; source: ChangeSource }
  | { kind: 'move'; address: string; args: ActionArgValue[]; source: ChangeSource };

/** Where a morph applies structure (another model, edits added or removed): before it glides, or after. */
export type MorphPoint = 'start' | 'end';

export interface SceneHost {
  readonly params: ParameterRegistry;
  readonly modulators: ModulationBank;
  readonly midi: MidiRouter;
  readonly folders: ModelFolders;
  /** Where direction sets are saved and loaded by name. */
  readonly directionSets: DirectionFolder;
  engine(): Engine;
  /** Loads another model beside the playing one and swaps it in (the host owns the loop). */
  switchModel(file: string): Promise<void>;
  /** Presets by name, in bank order. */
  presetFile(name: string): Promise<string>;
  presetAt(n: number): Promise<{ name: string; path: string } | undefined>;
  loadPresetFile(path: string): Promise<Preset>;
  savePresetFile(name: string, p: Preset): Promise<string>;
  notice(level: 'info' | 'warning' | 'error', text: string): void;
  /** Structure changed: pages get a new state. */
  announce(): void;
}

/** Moves the lock holds back: from the page they ask first, from OSC and MIDI they are refused. */
export class LockedError extends Error {}

/** Sources whose value changes are moves of the performer (undo steps); the rest follow them. */
const USER: ReadonlySet<ChangeSource> = new Set(['ui', 'osc', 'midi', 'api', 'cli']);

export class ShowScene extends Emitter<{ change: SceneChange }> {
  readonly actions: ActionRegistry;
  readonly history: SceneHistory<Preset>;
  private morph: { run: PresetMorph; done?: () => void } | undefined;
  /** Layers tapped by the scene itself (OSC tap/add); pages add their own views on top. */
  private sceneTaps: string[] = [];
  private pageTaps: string[] = [];
  private readonly offs: Array<() => void> = [];
  /** Makes the per-op bend moves follow the ops there are. */
  private readonly syncBendMoves: () => void;

  constructor(private readonly host: SceneHost) {
    super();
    const params = host.params;
    this.actions = new ActionRegistry(params);
    this.history = new SceneHistory<Preset>({ capture: () => this.capture(), restore: (s) => this.restore(s) });
    this.offs.push(
      params.on('beforeChange', (c) => {
        if (!USER.has(c.source) || !this.isSceneValue(c.address)) return;
        // Captured before the value moves (and before anything that follows it, like a blend layer
        // taking its own amount), so undoing the step gives back exactly this scene.
        // One step per gesture: a drag on the page (per control), a burst or stream from an OSC
        // or MIDI controller (per source, until it pauses). The scene is captured only when a step
        // starts, so a 200 Hz OSC stream costs one capture, not one per message.
        this.history.record(() => this.capture(), c.source === 'ui' ? `ui:${c.address}` : c.source);
      }),
      params.on('change', (c) => {
        if (this.isSceneValue(c.address)) this.emit('change', { kind: 'value', address: c.address, value: c.value, previous: c.previous, source: c.source });
      }),
      this.actions.on('done', (d) => {
        if (!d.error) return this.emit('change', { kind: 'move', address: d.address, args: d.args, source: d.source });
        // The page gets its reply; OSC and MIDI have no reply to carry it: the show says it.
        if (d.source !== 'ui') host.notice(d.error.startsWith('locked:') ? 'warning' : 'error', `${d.source} ${d.address}: ${d.error}`);
      }),
    );
    this.defineMoves();
    this.syncBendMoves = defineBendMoves({
      actions: this.actions,
      engine: () => host.engine(),
      step: (change) => this.step(change),
    });
    defineDirectionMoves({
      actions: this.actions,
      folder: host.directionSets,
      engine: () => host.engine(),
      step: (change) => this.step(change),
      notice: (level, text) => host.notice(level, text),
    });
    this.offs.push(
      defineMidiMoves({
        actions: this.actions,
        midi: host.midi,
        step: (change) => this.step(change),
        learned: (before) => {
          this.history.record({ ...this.capture(), mappings: { midi: before as unknown as Record<string, unknown>[], osc: [] } });
          host.announce();
        },
      }),
    );
  }

  /** Values that are part of the scene: not read-only (stats, outputs), not actions. */
  private isSceneValue(address: string): boolean {
    const spec = this.host.params.spec(address);
    return !!spec && !spec.readOnly && !spec.transient && spec.type !== 'trigger';
  }

  /** The scene as a preset holds it: models, values, edits, blends, taps, modulators, mappings. */
  capture(name = 'scene'): Preset {
    const midi = this.host.midi.toJSON() as unknown as Record<string, unknown>[];
    const p = captureScene(this.host.engine(), name, { modulators: this.host.modulators.list(), mappings: { midi, osc: [] } });
    return { ...p, taps: this.sceneTaps.slice() };
  }

  /** Called by the frame loop before each frame: a running morph glides on frame time. */
  beforeFrame(time: number): void {
    const m = this.morph;
    if (!m || !m.run.step(time)) return;
    this.morph = undefined;
    m.done?.();
  }

  get morphing(): boolean {
    return this.morph !== undefined;
  }

  /** The taps pages view; the engine taps those and the scene's own. */
  setPageTaps(layers: string[]): string[] {
    this.pageTaps = layers.map((l) => this.host.engine().tree.resolve(l).path);
    this.retap();
    return this.host.engine().tapped();
  }

  // --- the moves, each one action --------------------------------------------------------------

  /** Runs a move as its action (checked, queued, an undo step), from the page or any edge. */
  move(address: string, args: readonly unknown[], source: ChangeSource): Promise<unknown> {
    return this.actions.invoke(address, args, source);
  }

  private defineMoves(): void {
    const a = this.actions;
    const step =
      <T>(fn: (args: ActionArgValue[], source: ChangeSource) => Promise<T> | T) =>
      async (args: ActionArgValue[], source: ChangeSource) => {
        // The scene before the move is an undo step once the move has taken; a refused one leaves none.
        const before = this.capture();
        const result = await fn(args, source);
        this.history.record(before);
        this.host.announce();
        return result;
      };
    a.define({
      address: '/netbend/model/load',
      args: [
        { name: 'file', type: 's' },
        { name: 'confirm', type: 'i', optional: true },
      ],
      description: 'load a model from the model folders',
      run: step(async ([file, confirm], source) => this.loadModel(String(file), source, confirm === 1)),
    });
    a.define({
      address: '/netbend/partner/load',
      args: [{ name: 'file', type: 's' }],
      description: 'load a blend partner from the model folders',
      run: step(async ([file]) => this.host.engine().loadPartner(this.host.folders.resolve(String(file)))),
    });
    a.define({ address: '/netbend/partner/unload', args: [], description: 'unload the blend partner', run: step(async () => this.host.engine().loadPartner(undefined)) });
    a.define({
      address: '/netbend/edit/add',
      args: [
        { name: 'name', type: 's' },
        { name: 'target', type: 's' },
        { name: 'op', type: 's' },
        { name: 'amount', type: 'f', optional: true },
      ],
      description: 'add an edit slot: name (or "-" to derive it), target (weight, glob or layer), op, amount',
      run: step(([name, target, op, amount]) =>
        this.addEdit({ name: name === '-' ? undefined : String(name), target: String(target), op: String(op), amount: amount === undefined ? undefined : Number(amount) }),
      ),
    });
    a.define({
      address: '/netbend/edit/clear',
      args: [],
      description: 'remove every edit and set every blend back to 0: the original weights',
      run: step(() => this.host.engine().restoreOriginals()),
    });
    a.define({
      address: '/netbend/tap/add',
      args: [{ name: 'layer', type: 's' }],
      description: 'tap a layer (its output streams to pages that view it)',
      run: step(([layer]) => this.tap(String(layer), true)),
    });
    a.define({ address: '/netbend/tap/remove', args: [{ name: 'layer', type: 's' }], description: 'stop tapping a layer', run: step(([layer]) => this.tap(String(layer), false)) });
    a.define({
      address: '/netbend/preset/load',
      args: [
        { name: 'name', type: 's' },
        { name: 'seconds', type: 'f', optional: true },
        { name: 'at', type: 's', optional: true },
        { name: 'confirm', type: 'i', optional: true },
      ],
      description: 'load a preset, or morph to it over seconds (structure at "start" or "end")',
      run: step(async ([name, seconds, at, confirm], source) =>
        this.loadPreset(await this.host.presetFile(String(name)), { seconds: Number(seconds ?? 0), at: at === 'end' ? 'end' : 'start', source, confirm: confirm === 1 }),
      ),
    });
    a.define({
      address: '/netbend/preset/save',
      args: [{ name: 'name', type: 's' }],
      description: 'save the scene as a preset',
      run: ([name]) => this.host.savePresetFile(String(name), this.capture(String(name))),
    });
    a.define({
      address: '/netbend/mod/add',
      args: [
        { name: 'target', type: 's' },
        { name: 'kind', type: 's' },
        { name: 'source', type: 's' },
      ],
      description: 'modulate a parameter: kind "lfo" (e.g. sine:0.5hz:depth=0.2:center=0.5) or "expr" (e.g. 0.5 + 0.2 * sin(t))',
      run: step(([target, kind, source]) => this.addModulator(String(target), String(kind), String(source))),
    });
    a.define({ address: '/netbend/undo', args: [], description: 'undo the last move', run: () => this.history.undo() });
    a.define({ address: '/netbend/redo', args: [], description: 'redo the move undone last', run: () => this.history.redo() });
  }

  /**
   * A change made outside the actions (a seed grid's kept keyframe) as one structural move: in the
   * show's queue, one undo step, the pages told.
   */
  change<T>(fn: () => T): Promise<T> {
    return this.actions.queue.run(async () => {
      const result = this.history.as(this.capture(), fn);
      this.host.announce();
      return result;
    });
  }

  /** A structural change as one undo step (the scene just before it); the pages are told. */
  private step<T>(change: () => T): T {
    const before = this.capture();
    const result = change();
    this.history.record(before);
    this.host.announce();
    return result;
  }

  private locked(what: string, source: ChangeSource, confirm: boolean): void {
    if (this.host.params.get(LOCK) !== true || confirm) return;
    throw new LockedError(source === 'ui' ? `locked: ${what}? confirm to go ahead` : `locked: ${what} refused from ${source} while the performance lock is on`);
  }

  private async loadModel(file: string, source: ChangeSource, confirm: boolean): Promise<void> {
    const path = this.host.folders.resolve(file);
    this.locked(`switch the model to ${path}`, source, confirm);
    if (path !== this.host.engine().file) await this.host.switchModel(path);
    this.sceneTaps = [];
    this.pageTaps = [];
    this.syncEditActions();
  }

  private addEdit(e: { name?: string; target: string; op: string; amount?: number }): string {
    if (!(EDIT_OPS as readonly string[]).includes(e.op)) throw new Error(`unknown edit op "${e.op}"; use one of ${EDIT_OPS.join(', ')}`);
    const op = e.op as EditOp;
    const identity = op === 'scale' ? 1 : 0;
    const name = this.host.engine().addEdit(e.target, op, e.amount ?? identity, { name: e.name });
    this.defineEditRemove(name);
    return name;
  }

  /** Each edit slot has its own remove action: /netbend/edit/<name>/remove. */
  private defineEditRemove(name: string): void {
    const address = `/netbend/edit/${name}/remove`;
    if (this.actions.has(address)) return;
    this.actions.define({
      address,
      args: [],
      description: `remove the edit ${name}`,
      run: () => {
        const before = this.capture();
        this.host.engine().removeEdit(name);
        this.history.record(before);
        this.actions.remove(address);
        this.host.announce();
      },
    });
  }

  private addModulator(target: string, kind: string, source: string): string {
    if (kind !== 'lfo' && kind !== 'expr') throw new Error(`unknown modulator kind "${kind}"; use lfo or expr`);
    const id = this.host.modulators.add({ target, kind, source });
    this.defineModMoves(id);
    return id;
  }

  /** Each modulator has its moves: /netbend/mod/<id>/remove, /set ,s <spec>, /mute ,i <0|1>. */
  private defineModMoves(id: string): void {
    const root = `/netbend/mod/${id}`;
    if (this.actions.has(`${root}/remove`)) return;
    const bank = this.host.modulators;
    const step = (fn: (args: ActionArgValue[]) => void) => (args: ActionArgValue[]) => {
      const before = this.capture();
      fn(args);
      this.history.record(before);
      this.host.announce();
    };
    this.actions.define({
      address: `${root}/remove`,
      args: [],
      description: `remove the modulator ${id}`,
      run: step(() => {
        bank.remove(id);
        this.syncModMoves();
      }),
    });
    this.actions.define({
      address: `${root}/set`,
      args: [{ name: 'source', type: 's' }],
      description: `change what the modulator ${id} plays`,
      run: step(([source]) => bank.update(id, String(source))),
    });
    this.actions.define({
      address: `${root}/mute`,
      args: [{ name: 'muted', type: 'i' }],
      description: `mute (1) or unmute (0) the modulator ${id}`,
      run: step(([muted]) => bank.setEnabled(id, Number(muted) === 0)),
    });
  }

  /** Modulator moves follow the modulators there are (after a preset, an undo, a removal). */
  private syncModMoves(): void {
    const bank = this.host.modulators;
    for (const spec of this.actions.list()) {
      const m = /^\/netbend\/mod\/([^/]+)\/(remove|set|mute)$/.exec(spec.address);
      if (m && !bank.has(m[1]!)) this.actions.remove(spec.address);
    }
    for (const m of bank.list()) this.defineModMoves(m.id);
  }

  /** Remove actions follow the edit slots and bends there are (after a preset, an undo, a model switch). */
  private syncEditActions(): void {
    this.syncBendMoves();
    const names = new Set(
      this.host
        .engine()
        .bend.listEdits()
        .map((e) => e.name),
    );
    for (const spec of this.actions.list()) {
      const m = /^\/netbend\/edit\/(.+)\/remove$/.exec(spec.address);
      if (m && !names.has(m[1]!)) this.actions.remove(spec.address);
    }
    for (const n of names) this.defineEditRemove(n);
  }

  private tap(layer: string, on: boolean): string[] {
    const path = this.host.engine().tree.resolve(layer).path;
    this.sceneTaps = on ? [...new Set([...this.sceneTaps, path])] : this.sceneTaps.filter((l) => l !== path);
    this.retap();
    return this.sceneTaps;
  }

  private retap(): void {
    this.host.engine().setTaps([...new Set([...this.sceneTaps, ...this.pageTaps])]);
  }

  /**
   * Loads a preset (another model first if it plays one), or morphs to it: continuous values glide
   * (sources, edit and blend amounts), structure lands at the chosen point and keeps edit names.
   */
  async loadPreset(file: string, o: { seconds?: number; at?: MorphPoint; source: ChangeSource; confirm?: boolean }): Promise<string[]> {
    const p = await this.host.loadPresetFile(file);
    // A preset names its own files (it was saved from a show that played them): no folder lookup.
    const otherModel = canonicalPath(p.model.path) !== this.host.engine().file;
    // Locked: from the page every preset asks first (a stray key must not change the scene); from
    // OSC and MIDI a recall goes through, unless it would switch the model.
    if (o.source === 'ui' || otherModel) this.locked(`load preset "${p.name}"${otherModel ? ' (it plays another model)' : ''}`, o.source, o.confirm === true);
    this.morph = undefined;
    const seconds = o.seconds ?? 0;
    if (!(seconds > 0)) return this.apply(p);
    if (o.at === 'end') {
      // Glide what both scenes share, then the whole preset lands at the end.
      const to = otherModel ? sceneParams(this.host.params, { ...p, edits: [], blend: {} }).values : this.glideTargets(p);
      this.morph = { run: new PresetMorph(this.host.params, to, seconds), done: () => void this.actions.queue.run(() => this.apply(p)).catch((err: Error) => this.host.notice('error', err.message)) };
      return [];
    }
    // Structure first, amounts of the edits that stay untouched; then everything glides to the preset.
    if (otherModel) await this.host.switchModel(canonicalPath(p.model.path));
    this.sceneTaps = p.taps.map((l) => this.host.engine().tree.resolve(l).path);
    const warnings = await applyScene(this.host.engine(), { ...p, taps: [...new Set([...this.sceneTaps, ...this.pageTaps])] }, { params: false, amounts: false });
    const lfoGlides = this.lfoGlides(p);
    this.useModulatorsOf(p);
    this.syncEditActions();
    const bank = this.host.modulators;
    const glideLfos = (k: number) => {
      for (const g of lfoGlides) bank.shapeLfo(g.id, g.from.depth + (g.to.depth - g.from.depth) * k, g.from.center + (g.to.center - g.from.center) * k);
    };
    glideLfos(0);
    this.morph = { run: new PresetMorph(this.host.params, this.glideTargets(p), seconds, glideLfos) };
    return warnings;
  }

  /** Recall by position in the bank (MIDI program change, OSC /netbend/preset/recall). */
  async recall(n: number, source: ChangeSource): Promise<void> {
    const entry = await this.host.presetAt(n);
    if (!entry) return this.host.notice('warning', `no preset at position ${n}`);
    try {
      await this.actions.queue.run(async () => {
        const before = this.capture();
        for (const w of await this.loadPreset(entry.path, { source })) this.host.notice('warning', w);
        this.history.record(before);
        this.host.announce();
      });
      this.host.notice('info', `preset ${entry.name}`);
    } catch (err) {
      this.host.notice(err instanceof LockedError ? 'warning' : 'error', (err as Error).message);
    }
  }

  /** LFOs both scenes have (same id, shape and rate): their depth and center glide in a morph. */
  private lfoGlides(p: Preset): Array<{ id: string; from: LfoSpec; to: LfoSpec }> {
    const out: Array<{ id: string; from: LfoSpec; to: LfoSpec }> = [];
    for (const m of p.modulators) {
      if (m.kind !== 'lfo') continue;
      const from = this.host.modulators.lfoOf(m.id);
      if (!from) continue;
      let to: LfoSpec;
      try {
        to = parseLfo(m.source);
      } catch {
        continue; // the bank refuses it when the preset's modulators go in
      }
      if (from.shape === to.shape && from.rate === to.rate && from.unit === to.unit) out.push({ id: m.id, from, to });
    }
    return out;
  }

  /** Every value a morph to `p` glides: its parameters, and the amounts of its edits and blends. */
  private glideTargets(p: Preset): Record<string, ParamValue> {
    const { values } = sceneParams(this.host.params, p);
    const engine = this.host.engine();
    for (const e of presetEdits(p)) {
      const address = `/netbend/edit/${e.name}/amount`;
      if (this.host.params.has(address)) values[address] = e.amount;
    }
    if (engine.bend.partner) for (const [layer, t] of Object.entries(p.blend)) values[engine.bend.blendAddress(layer)] = t;
    return values;
  }

  /** The whole preset, now: model, structure, values, modulators, mappings. */
  private async apply(p: Preset): Promise<string[]> {
    const path = canonicalPath(p.model.path);
    if (path !== this.host.engine().file) await this.host.switchModel(path);
    this.sceneTaps = p.taps.map((l) => this.host.engine().tree.resolve(l).path);
    const warnings = await applyScene(this.host.engine(), { ...p, taps: [...new Set([...this.sceneTaps, ...this.pageTaps])] });
    this.useModulatorsOf(p);
    if (p.mappings.midi.length) this.host.midi.fromJSON(p.mappings.midi);
    this.syncEditActions();
    this.host.announce();
    return warnings;
  }

  private useModulatorsOf(p: Preset): void {
    this.host.modulators.clear();
    for (const m of p.modulators) this.host.modulators.add(m);
    this.syncModMoves();
  }

  /** An undo step: the scene as it was, exactly (mappings included). */
  private async restore(s: Preset): Promise<void> {
    this.morph = undefined;
    const midi = s.mappings.midi;
    await this.apply({ ...s, mappings: { midi: [], osc: [] } });
    this.host.midi.fromJSON(midi);
  }

  close(): void {
    this.offs.forEach((off) => off());
  }
}
