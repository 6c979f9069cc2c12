/**
 * A shared allowance of some quantity (a batch's decoded pixels): `acquire(n)` waits until `n` more fit under the
 * limit, first come first served, and always lets one holder in alone, however large, so nothing waits forever.
 */
export class Budget {
  private used = 0;
  private holders = 0;
  private readonly queue: { n: number; go: () => void }[] = [];

  constructor(readonly limit: number) {}

  async acquire(n: number): Promise<void> {
    if (this.queue.length === 0 && this.fits(n)) return this.take(n);
    await new Promise<void>((go) => this.queue.push({ n, go }));
  }

  release(n: number): void {
    this.used -= n;
    this.holders--;
    while (this.queue.length && this.fits(this.queue[0].n)) {
      const next = this.queue.shift()!;
      this.take(next.n);
      next.go();
    }
  }

  private fits(n: number): boolean {
    return this.holders === 0 || this.used + n <= this.limit;
  }

  private take(n: number): void {
    this.used += n;
    this.holders++;
  }
}
