// A typed event emitter in the spirit of tweakpane's: event names and payloads are checked at
// compile time, and a listener can remove itself while an event is being dispatched.
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners: { [K in keyof Events]?: Array<(ev: Events[K]) => void> } = {};

  on<K extends keyof Events>(name: K, fn: (ev: Events[K]) => void): () => void {
    (this.listeners[name] ??= []).push(fn);
    return () => this.off(name, fn);
  }

  off<K extends keyof Events>(name: K, fn: (ev: Events[K]) => void): void {
    const list = this.listeners[name];
    if (!list) return;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }

  /** How many listeners an event has: lets tests prove that switches and closes release theirs. */
  listenerCount<K extends keyof Events>(name: K): number {
    return this.listeners[name]?.length ?? 0;
  }

  emit<K extends keyof Events>(name: K, ev: Events[K]): void {
    const list = this.listeners[name];
    if (!list) return;
    for (const fn of [...list]) fn(ev);
  }
}
