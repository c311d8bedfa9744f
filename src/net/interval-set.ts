// Sets of integers (addresses, ports) as sorted, disjoint, non-adjacent closed intervals.
// Everything that asks "which addresses/ports" is written in this algebra.

export interface Interval {
  readonly lo: bigint;
  readonly hi: bigint;
}

export class IntervalSet {
  private constructor(readonly intervals: readonly Interval[]) {}

  static readonly EMPTY = new IntervalSet([]);

  static of(intervals: Iterable<Interval>): IntervalSet {
    const sorted = [...intervals]
      .filter((i) => i.lo <= i.hi)
      .sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
    const merged: Interval[] = [];
    for (const next of sorted) {
      const last = merged[merged.length - 1];
      if (last && next.lo <= last.hi + 1n) {
        if (next.hi > last.hi) merged[merged.length - 1] = { lo: last.lo, hi: next.hi };
      } else {
        merged.push(next);
      }
    }
    return new IntervalSet(merged);
  }

  static range(lo: bigint, hi: bigint): IntervalSet {
    return IntervalSet.of([{ lo, hi }]);
  }

  get isEmpty(): boolean {
    return this.intervals.length === 0;
  }

  size(): bigint {
    let total = 0n;
    for (const i of this.intervals) total += i.hi - i.lo + 1n;
    return total;
  }

  has(value: bigint): boolean {
    let lo = 0;
    let hi = this.intervals.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const interval = this.intervals[mid] as Interval;
      if (value < interval.lo) hi = mid - 1;
      else if (value > interval.hi) lo = mid + 1;
      else return true;
    }
    return false;
  }

  union(other: IntervalSet): IntervalSet {
    if (other.isEmpty) return this;
    if (this.isEmpty) return other;
    return IntervalSet.of([...this.intervals, ...other.intervals]);
  }

  intersect(other: IntervalSet): IntervalSet {
    const out: Interval[] = [];
    let i = 0;
    let j = 0;
    while (i < this.intervals.length && j < other.intervals.length) {
      const a = this.intervals[i] as Interval;
      const b = other.intervals[j] as Interval;
      const lo = a.lo > b.lo ? a.lo : b.lo;
      const hi = a.hi < b.hi ? a.hi : b.hi;
      if (lo <= hi) out.push({ lo, hi });
      if (a.hi < b.hi) i++;
      else j++;
    }
    return new IntervalSet(out);
  }

  subtract(other: IntervalSet): IntervalSet {
    const out: Interval[] = [];
    let j = 0;
    for (const a of this.intervals) {
      let lo = a.lo;
      while (j < other.intervals.length && (other.intervals[j] as Interval).hi < lo) j++;
      let k = j;
      while (k < other.intervals.length && (other.intervals[k] as Interval).lo <= a.hi) {
        const b = other.intervals[k] as Interval;
        if (b.lo > lo) out.push({ lo, hi: b.lo - 1n });
        lo = b.hi + 1n;
        k++;
      }
      if (lo <= a.hi) out.push({ lo, hi: a.hi });
    }
    return new IntervalSet(out);
  }

  covers(other: IntervalSet): boolean {
    return other.subtract(this).isEmpty;
  }

  equals(other: IntervalSet): boolean {
    return (
      this.intervals.length === other.intervals.length &&
      this.intervals.every((a, k) => a.lo === other.intervals[k]?.lo && a.hi === other.intervals[k]?.hi)
    );
  }
}
