// Structural moves of the show as addressable actions: `/netbend/model/load ,s <file>`,
// `/netbend/edit/add ,sss[f] ...`, `/netbend/undo`. Each has an OSC signature (listed in
// OSCQuery), checked arguments, and runs through the show's one queue, so OSC, MIDI and the page
// make the same move the same way. Actions without arguments are also trigger parameters, so
// MIDI notes and OSCQuery clients reach them like any button.
import { Emitter } from '../core/emitter.ts';
import type { ChangeSource, ParameterRegistry } from '../core/registry.ts';
import { SerialQueue } from './serial-queue.ts';

export type ActionArgType = 's' | 'f' | 'i';
export type ActionArgValue = string | number;

export interface ActionArg {
  name: string;
  type: ActionArgType;
  optional?: boolean;
  /** Longest string taken (default MAX_STRING); a list of addresses may be longer than a file name. */
  max?: number;
}

export interface ActionSpec {
  address: string;
  args: readonly ActionArg[];
  description: string;
  /** Immediate moves (undo of a slider, a tap) skip the queue; loads wait their turn. */
  queued?: boolean;
  run(args: ActionArgValue[], source: ChangeSource): unknown;
}

export class ActionError extends Error {}

export interface ActionDone {
  address: string;
  args: ActionArgValue[];
  source: ChangeSource;
  error?: string;
}

/** Longest string argument: a file name or a layer path, never a payload. */
const MAX_STRING = 1024;

/** The OSC type tags of a signature: optional arguments in brackets, as the issue writes them. */
export function signature(args: readonly ActionArg[]): string {
  return args.map((a) => (a.optional ? `[${a.type}]` : a.type)).join('');
}

export class ActionRegistry extends Emitter<{ define: ActionSpec; remove: string; done: ActionDone }> {
  private readonly actions = new Map<string, ActionSpec>();
  /** Actions that are triggers too: a press of one of these addresses runs it. */
  private readonly buttons = new Set<string>();

  constructor(
    private readonly params: ParameterRegistry,
    readonly queue = new SerialQueue(),
  ) {
    super();
    // One listener for every button, not one per action on every change of every value.
    params.on('change', (c) => {
      if (this.buttons.has(c.address)) void this.invoke(c.address, [], c.source).catch(() => {});
    });
  }

  define(spec: ActionSpec): void {
    if (!spec.address.startsWith('/netbend/')) throw new ActionError(`action address must start with /netbend/: ${spec.address}`);
    this.remove(spec.address);
    this.actions.set(spec.address, spec);
    if (spec.args.every((a) => a.optional)) {
      // A button too: MIDI notes, OSCQuery clients and the page press it like any trigger.
      this.params.define({ address: spec.address, type: 'trigger', default: false, transient: true, description: spec.description });
      this.buttons.add(spec.address);
    }
    this.emit('define', spec);
  }

  remove(address: string): void {
    if (!this.actions.delete(address)) return;
    if (this.buttons.delete(address)) this.params.remove(address);
    this.emit('remove', address);
  }

  has(address: string): boolean {
    return this.actions.has(address);
  }

  spec(address: string): ActionSpec | undefined {
    return this.actions.get(address);
  }

  list(): ActionSpec[] {
    return [...this.actions.values()];
  }

  /**
   * Checks the arguments against the action's signature, then runs it (after the moves queued
   * before it, for queued actions). Rejects with a readable ActionError; never throws synchronously.
   */
  async invoke(address: string, raw: readonly unknown[], source: ChangeSource): Promise<unknown> {
    const spec = this.actions.get(address);
    if (!spec) throw new ActionError(`no action ${address}`);
    let args: ActionArgValue[];
    try {
      args = check(spec, raw);
    } catch (err) {
      this.emit('done', { address, args: [], source, error: (err as Error).message });
      throw err;
    }
    const go = async () => {
      try {
        const result = await spec.run(args, source);
        this.emit('done', { address, args, source });
        return result;
      } catch (err) {
        this.emit('done', { address, args, source, error: (err as Error).message });
        throw err;
      }
    };
    return spec.queued === false ? go() : this.queue.run(go);
  }
}

function check(spec: ActionSpec, raw: readonly unknown[]): ActionArgValue[] {
  const usage = `${spec.address} ,${signature(spec.args)} (${spec.args.map((a) => (a.optional ? `[${a.name}]` : a.name)).join(' ') || 'no arguments'})`;
  const required = spec.args.filter((a) => !a.optional).length;
  if (raw.length < required || raw.length > spec.args.length) throw new ActionError(`${usage}: got ${raw.length} argument${raw.length === 1 ? '' : 's'}`);
  return raw.map((v, i) => {
    const a = spec.args[i]!;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (a.type === 's') {
      const max = a.max ?? MAX_STRING;
      if (typeof n !== 'string' || n.length === 0 || n.length > max) throw new ActionError(`${usage}: ${a.name} must be a string of 1-${max} characters`);
      return n;
    }
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new ActionError(`${usage}: ${a.name} must be a finite number`);
    if (a.type === 'i' && !Number.isInteger(n)) throw new ActionError(`${usage}: ${a.name} must be an integer`);
    return n;
  });
}
