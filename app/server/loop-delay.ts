// Event-loop health: how late the loop serves timers, sockets and OSC. Inference runs off the main
// thread, so a delay here means something on it blocks (a big JSON parse, a sync read) and every
// page, OSC message and frame waits behind it. Measured in windows: each window's p99 and max,
// then the histogram starts over, so a stall shows once and is not averaged away by a long show.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelayWindow {
  /** 99th percentile of the window, ms. */
  p99: number;
  /** Worst delay of the window, ms. */
  max: number;
}

export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  /** The last finished window; zeros until the first one ends. */
  last: LoopDelayWindow = { p99: 0, max: 0 };

  /** `onWindow` runs once per window with its figures (the session sets its stats parameters). */
  constructor(windowMs: number, onWindow: (w: LoopDelayWindow) => void = () => {}, resolutionMs = 10) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
    this.timer = setInterval(() => {
      // The histogram counts nanoseconds between samples, the sampling interval included (an idle
      // loop reads ~resolution): that interval is taken off, so an idle loop reads ~0 ms.
      const h = this.histogram;
      const late = (ns: number) => round(Math.max(0, ns / 1e6 - resolutionMs));
      this.last = h.count ? { p99: late(h.percentile(99)), max: late(h.max) } : { p99: 0, max: 0 };
      h.reset();
      onWindow(this.last);
    }, windowMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
