// Unicode checks shared by the writers and the timeline's run files.

type MaybeWellFormed = string & { isWellFormed?: () => boolean };

/** False when s holds a lone surrogate, which UTF-8 cannot carry (it would arrive as U+FFFD). */
export const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as MaybeWellFormed).isWellFormed === 'function'
    ? (s) => (s as MaybeWellFormed).isWellFormed!()
    : (s) => !/[\ud800-\udfff]/.test(s);
