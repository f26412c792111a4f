// A regression net as a controller (Wekinator's idea, Houdini's ML nodes' nets): its inputs are
// bound to parameters (knobs), and its outputs are routed to other parameters (4 knobs -> MLP ->
// 16 edit amounts) and, as read-only parameters, out over OSC. It runs beside the generator, off
// the frame path: its results land on the next frame, latest wins.
import { Engine } from '../engine/engine.ts';
import { ParamRefused, type ParameterRegistry } from '../core/registry.ts';
import { findAddress } from './find-address.ts';

export interface Route {
  /** Output parameter, e.g. /netbend/ctl/mlp/outputs/values/3 */
  from: string;
  to: string;
  /** The output's own span, mapped onto the target's range (tanh nets: -1..1); 'as-is': already in the target's units. */
  span: readonly [number, number] | 'as-is';
}

export interface ControllerOptions {
  ep?: 'cpu' | 'auto';
  /** Per input name, a source kind (a trained mapper's `x` is a vector of parameters whatever its size). */
  sources?: Record<string, string>;
}

export class ControllerNet {
  private readonly routes: Route[] = [];
  private readonly bindings: Array<[from: string, to: string]> = [];
  private busy = false;
  private closed = false;
  private outs: string[] | undefined;
  private frame = 0;

  private constructor(
    readonly engine: Engine,
    private readonly params: ParameterRegistry,
    readonly name: string,
  ) {}

  static async open(file: string, params: ParameterRegistry, name = 'ctl', o: ControllerOptions = {}): Promise<ControllerNet> {
    const { engine } = await Engine.open({ model: file, ep: o.ep ?? 'cpu', sources: o.sources, registry: params, namespace: `/netbend/ctl/${name}`, smoothing: false });
    if (engine.image) {
      await engine.close();
      throw new Error(`${file}: a controller net gives numbers, not an image`);
    }
    return new ControllerNet(engine, params, name);
  }

  /** The net's input parameters (p0 ... under /netbend/ctl/<name>/source/<input>/). */
  inputs(): string[] {
    return this.params
      .list()
      .map((s) => s.address)
      .filter((a) => a.startsWith(`/netbend/ctl/${this.name}/source/`));
  }

  outputs(): string[] {
    return this.params
      .list()
      .map((s) => s.address)
      .filter((a) => a.startsWith(`/netbend/ctl/${this.name}/outputs/`));
  }

  /** Input `index` (or a full input address) follows parameter `from`. */
  bind(input: number | string, from: string): void {
    const to = typeof input === 'number' ? this.inputs()[input] : findAddress(this.params, input);
    if (!to) throw new Error(`controller ${this.name} has no input ${input}`);
    this.bindings.push([findAddress(this.params, from), to]);
  }

  route(output: number | string, to: string, span: Route['span'] = [-1, 1]): void {
    const from = typeof output === 'number' ? this.outputs()[output] : findAddress(this.params, output);
    if (!from) throw new Error(`controller ${this.name} has no output ${output}`);
    const target = findAddress(this.params, to);
    const spec = this.params.spec(target)!;
    if (spec.type !== 'float' && spec.type !== 'int') throw new Error(`${target} is not a number parameter`);
    this.routes.push({ from, to: target, span });
  }

  /** Runs the net once if it is free; its routed values are written when it returns. */
  async step(): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      for (const [from, to] of this.bindings) this.params.set(to, this.params.number(from), 'engine');
      const index = this.frame++;
      await this.engine.render({ index, time: index / 30, dt: 1 / 30 });
      // Closed while it ran (a mapping replaced or stopped): its last results are not written.
      if (this.closed) return false;
      for (const r of this.routes) {
        const spec = this.params.spec(r.to);
        if (!spec) continue;
        const out = this.params.number(r.from);
        let value = out;
        if (r.span !== 'as-is') {
          const [inMin, inMax] = r.span;
          const lo = spec.min ?? 0;
          const hi = spec.max ?? 1;
          value = lo + ((out - inMin) / (inMax - inMin)) * (hi - lo);
        }
        try {
          this.params.set(r.to, value, 'modulator');
        } catch (err) {
          // A NaN or runaway output is refused and counted by the registry; the other routes go on.
          if (!(err instanceof ParamRefused)) throw err;
        }
      }
      return true;
    } finally {
      this.busy = false;
    }
  }

  /** The values its outputs hold now, in order. */
  values(): number[] {
    this.outs ??= this.outputs();
    return this.outs.map((a) => this.params.number(a));
  }

  /** Closes its engine (after a run under way) and removes its parameters; routed values stay as they are. */
  async close(): Promise<void> {
    this.closed = true;
    await this.engine.close();
    this.params.removeUnder(`/netbend/ctl/${this.name}/`);
  }
}
