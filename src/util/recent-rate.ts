/**
 * Items per second over the last `window` steps, from the median step: a progress line's rate and ETA that one
 * long step (the process suspended with Ctrl-Z or SIGSTOP, a laptop asleep, a garbage collection) moves by one place
 * in the median instead of for the rest of the epoch, as a running mean over the epoch did.
 */
export class RecentRate {
  private readonly seconds: number[] = [];
  private readonly items: number[] = [];
  private next = 0;

  constructor(private readonly window = 32) {}

  /** One step of `items` that took `seconds`. */
  add(items: number, seconds: number): void {
    if (this.seconds.length < this.window) {
      this.seconds.push(seconds);
      this.items.push(items);
    } else {
      this.seconds[this.next] = seconds;
      this.items[this.next] = items;
      this.next = (this.next + 1) % this.window;
    }
  }

  /** Items per second of the median step (by seconds per item); 0 before the first step. */
  perSecond(): number {
    if (!this.seconds.length) return 0;
    const perItem = Float64Array.from(this.seconds, (s, i) => s / Math.max(1, this.items[i])).sort(); // numeric order
    const n = perItem.length,
      median = n % 2 ? perItem[n >> 1] : (perItem[n / 2 - 1] + perItem[n / 2]) / 2;
    return median > 0 ? 1 / median : 0;
  }
}
