// The show's one queue for slow moves (model and partner loads, preset loads, recordings, undo):
// each starts when the one before it has finished, so two loads never race and the last word
// is the last one asked for. Bounded: a flood of requests is refused, not queued forever.

export class QueueFull extends Error {}

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly limit = 64) {}

  /** Runs `job` after every job queued before it; rejects at once with QueueFull past the limit. */
  run<T>(job: () => Promise<T> | T): Promise<T> {
    if (this.waiting >= this.limit) return Promise.reject(new QueueFull(`busy: ${this.waiting} moves are waiting; try again when they are done`));
    this.waiting++;
    const result = this.tail.then(job).finally(() => this.waiting--);
    this.tail = result.catch(() => {});
    return result;
  }

  /** Jobs queued or running. */
  get pending(): number {
    return this.waiting;
  }

  /** Resolves when every job queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => {});
  }
}
