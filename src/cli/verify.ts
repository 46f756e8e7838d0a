// `flotsam verify IMAGE`: recompute MD5 and SHA-1 over the media of a disk image and compare them with the hashes the
// image stores (E01 digest/hash sections). A thin shell over verifyImage() (src/io/ewf/verify.ts).
// Exit codes: 0 = every stored hash matches (or the format stores none: raw; the computed hashes are printed);
// 3 = a stored hash does not match (printed loudly on stderr); 2 = the image cannot be opened or read.
import type { Argv } from 'yargs';
import { ByteSourceError } from '../io/byte-source.js';
import { type VerifyResult, verifyImage } from '../io/ewf/verify.js';

/** Exit code for a stored hash that does not match the media. */
export const EXIT_HASH_MISMATCH = 3;
/** Exit code for an image that cannot be opened or read. */
export const EXIT_UNREADABLE = 2;

/** Raised by the verify command; main.ts turns it into `exitCode` after printing `message`. */
export class VerifyFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'VerifyFailed';
  }
}

/** Problems printed before we only count them. */
const MAX_PRINTED_PROBLEMS = 20;

export function formatVerifyResult(r: VerifyResult): string {
  const lines: string[] = [];
  lines.push(`image:    ${r.path} (${r.format})`);
  lines.push(`media:    ${r.size} bytes, read in ${r.seconds.toFixed(1)} s`);
  for (const alg of ['md5', 'sha1'] as const) {
    const c = r.checks.find((x) => x.algorithm === alg);
    const name = alg === 'md5' ? 'MD5  ' : 'SHA-1';
    if (!c) lines.push(`${name}     computed ${r.computed[alg]}  (no stored ${name.trim()} to compare)`);
    else lines.push(`${name}     computed ${c.computed}  stored ${c.stored}  ${c.match ? 'match' : 'MISMATCH'}`);
  }
  for (const p of r.problems.slice(0, MAX_PRINTED_PROBLEMS)) lines.push(`problem:  ${p.path}: ${p.reason}`);
  if (r.problemCount > MAX_PRINTED_PROBLEMS) lines.push(`problem:  ... ${r.problemCount - MAX_PRINTED_PROBLEMS} more`);
  lines.push(
    r.verdict === 'match'
      ? 'verified: every stored hash matches the media'
      : r.verdict === 'mismatch'
        ? 'VERIFICATION FAILED: a stored hash does not match the media'
        : 'computed only: the image stores no hash to compare with',
  );
  return lines.join('\n') + '\n';
}

export function registerVerifyCommand<T>(y: Argv<T>): Argv<T> {
  return y.command(
    'verify <image>',
    'Recompute MD5/SHA-1 of a disk image (E01, raw, ...) and compare with the hashes stored in it',
    (a) =>
      a
        .positional('image', { type: 'string', demandOption: true, describe: 'first segment or image file' })
        .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress' })
        .example('$0 verify case1/disk.E01', 'exit 0 when the stored MD5/SHA-1 match, 3 when not'),
    async (args) => {
      const progress = !args.quiet && !args.json && process.stderr.isTTY;
      let result: VerifyResult;
      try {
        result = await verifyImage(args.image as string, progress ? (p) => {
          const pct = p.total > 0n ? Number((p.done * 1000n) / p.total) / 10 : 100;
          process.stderr.write(`\rverify: ${pct.toFixed(1)}%`);
        } : undefined);
      } catch (err) {
        if (err instanceof ByteSourceError) throw new VerifyFailed(`cannot verify ${err.message}`, EXIT_UNREADABLE);
        throw err;
      } finally {
        if (progress) process.stderr.write('\r\x1b[K');
      }
      if (args.json) {
        process.stdout.write(JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
      } else {
        process.stdout.write(formatVerifyResult(result));
      }
      if (result.verdict === 'mismatch') {
        const bad = result.checks.filter((c) => !c.match).map((c) => `${c.algorithm.toUpperCase()} computed ${c.computed}, stored ${c.stored}`);
        throw new VerifyFailed(`VERIFICATION FAILED for ${result.path}: ${bad.join('; ')}`, EXIT_HASH_MISMATCH);
      }
    },
  );
}
