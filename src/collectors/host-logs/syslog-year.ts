// RFC 3164 lines carry no year: the year tracker used by the syslog pre-pass and parse pass (syslog-sink.ts).

/** The month drop (previous month minus this one) from which a line starts a new year. */
export const YEAR_ROLLOVER_MONTH_DROP = 2;

/** Tracks RFC 3164 months line by line; counts roll-overs (identical in the pre-pass and the parse pass). */
export class YearTracker {
  rollovers = 0;
  private prev = 0;
  private lastMonth = 0;
  private lastDay = 0;
  /** The month and day of the last line seen, undefined before the first. */
  get last(): { month: number; day: number } | undefined {
    return this.lastMonth === 0 ? undefined : { month: this.lastMonth, day: this.lastDay };
  }
  /** Feeds the month of the next line; returns the roll-overs so far (0 for the first year). */
  see(month: number, day: number): number {
    if (this.prev !== 0 && this.prev - month >= YEAR_ROLLOVER_MONTH_DROP) this.rollovers++;
    this.prev = month;
    this.lastMonth = month;
    this.lastDay = day;
    return this.rollovers;
  }
}

export interface YearInfo {
  /** Year of the first RFC 3164 line. */
  startYear: number;
  source: 'mtime' | 'ctime' | 'none';
}
