// The command line: a thin yargs shell over the library. The one place that prints and sets exit codes.
// Exit codes: 0 = outputs written (problems, if any, are listed in problems.json and warned about on stderr);
// 1 = an unexpected internal error (a bug: please report it with the stack trace);
// 2 = nothing could be produced (missing or unrecognised evidence, bad arguments).
import yargs from 'yargs';
import { EvidenceError } from '../fs/open-evidence.js';
import { parseUserTime } from '../events/time.js';
import type { Problem } from '../events/event.js';
import { triage } from '../triage/triage.js';
import { ALL_TIMELINE_FORMATS, type TimelineFormat } from '../triage/options.js';
import { inventory } from '../triage/inventory.js';
import { toolVersion } from '../triage/manifest.js';
import { printContainers } from './containers-output.js';
import { ProgressReporter } from './progress.js';
import { registerBrowseCommands } from './browse.js';
import { registerDiffCommand } from './diff.js'; // issue 6
import { VerifyFailed, registerVerifyCommand } from './verify.js';
import { tuneHeapForStreaming } from '../triage/heap.js';

export class UsageError extends Error {}

/** Problems printed on stderr before we only count them (all of them are in problems.json). */
const MAX_PRINTED_WARNINGS = 50;

function warningPrinter(): { print: (p: Problem) => void; summary: () => void } {
  let count = 0;
  return {
    print(p) {
      count++;
      if (count <= MAX_PRINTED_WARNINGS) {
        process.stderr.write(`warning: ${p.host ? `[${p.host}] ` : ''}${p.path}: ${p.reason}\n`);
      }
    },
    summary() {
      if (count > MAX_PRINTED_WARNINGS) {
        process.stderr.write(`warning: ${count - MAX_PRINTED_WARNINGS} more problems not shown; see problems.json\n`);
      }
    },
  };
}

function parseFormats(value: string | string[] | undefined): TimelineFormat[] {
  if (value === undefined) return [...ALL_TIMELINE_FORMATS];
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim());
  for (const p of parts) {
    if (!(ALL_TIMELINE_FORMATS as readonly string[]).includes(p)) {
      throw new UsageError(`unknown timeline format '${p}' (choose from ${ALL_TIMELINE_FORMATS.join(', ')})`);
    }
  }
  return parts as TimelineFormat[];
}

function parseTimeOption(name: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const t = parseUserTime(value);
  if (t === undefined) throw new UsageError(`--${name} '${value}' is not a time (RFC 3339, YYYY-MM-DD or epoch seconds)`);
  return t;
}

export async function main(argv: string[]): Promise<void> {
  let exitCode = 0;
  tuneHeapForStreaming();
  try {
    await registerDiffCommand(registerVerifyCommand(registerBrowseCommands(yargs(argv))))
      .scriptName('flotsam')
      .version(toolVersion())
      .strict()
      .demandCommand(1, 'name a command: triage, containers, diff, info, ls, cat, stat, verify')
      .command(
        'triage <sources..>',
        'Triage evidence (a mounted Linux root or a Docker data root) into a sorted timeline and inventories',
        (y) =>
          y
            .positional('sources', { type: 'string', array: true, demandOption: true, describe: 'evidence paths' })
            .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'output folder' })
            .option('format', { type: 'string', describe: 'timeline formats: csv,jsonl,json (default: all)' })
            .option('since', { type: 'string', describe: 'keep events at or after this time (UTC)' })
            .option('until', { type: 'string', describe: 'keep events before this time (UTC)' })
            .option('tz', { type: 'string', describe: 'IANA zone for host logs without a zone (default: the zone the evidence records)' })
            .option('jobs', { alias: 'j', type: 'number', default: 1, describe: 'sources triaged in parallel' })
            .option('tmp-dir', {
              type: 'string',
              describe: 'folder for temporary files: sort spill files (default: inside --out) and the inflated copy of a .tar.gz (default: the system temp folder)',
            })
            .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress, no warnings' })
            .option('hash', { type: 'boolean', default: false, describe: 'sha256 of files added/changed in container writable layers' })
            .option('carve-all', { type: 'boolean', default: false, describe: 'disk images: carve the whole disk (not only free blocks) for removed containers' })
            .option('carve', { type: 'boolean', default: true, describe: 'disk images: carve free blocks and deleted inodes (--no-carve to skip)' })
            .example('$0 triage /mnt/evidence --out case1/', 'a mounted Linux root')
            .example('$0 triage hostA/ hostB/ --out case/ --jobs 2', 'several hosts, merged timeline'),
        async (args) => {
          const warnings = warningPrinter();
          const progress = args.quiet ? undefined : new ProgressReporter(process.stderr);
          try {
            const result = await triage({
              sources: args.sources as string[],
              out: args.out,
              formats: parseFormats(args.format),
              since: parseTimeOption('since', args.since),
              until: parseTimeOption('until', args.until),
              tz: args.tz,
              jobs: args.jobs,
              tmpDir: args['tmp-dir'],
              hashChanges: args.hash,
              carve: args.carve === false ? 'off' : args['carve-all'] ? 'all' : 'unallocated',
              commandLine: ['flotsam', ...argv],
              onProblem: args.quiet ? undefined : (p) => warnings.print(p),
              onProgress: progress ? (p) => progress.update(p) : undefined,
            });
            progress?.stop();
            warnings.summary();
            const m = result.manifest;
            process.stderr.write(
              `flotsam: ${m.events} events from ${m.sources.length} source(s), ` +
                `${m.sources.reduce((n, s) => n + s.containers, 0)} containers, ${m.problems} problems -> ${result.outDir}\n`,
            );
          } finally {
            progress?.stop();
          }
        },
      )
      .command(
        'containers <source>',
        'List the containers found in the evidence',
        (y) =>
          y
            .positional('source', { type: 'string', demandOption: true })
            .option('format', { choices: ['table', 'csv', 'json'] as const, default: 'table' as const }),
        (args) => {
          const warnings = warningPrinter();
          const inv = inventory(args.source, (p) => warnings.print(p));
          printContainers(inv, args.format, process.stdout);
          warnings.summary();
        },
      )
      .fail((msg, err) => {
        if (err) throw err;
        throw new UsageError(msg);
      })
      .help()
      .parseAsync();
  } catch (err) {
    if (err instanceof VerifyFailed) {
      process.stderr.write(`flotsam: ${err.message}\n`);
      exitCode = err.exitCode;
    } else if (err instanceof UsageError || err instanceof EvidenceError) {
      process.stderr.write(`flotsam: ${err.message}\n`);
      exitCode = 2;
    } else {
      process.stderr.write(`flotsam: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      exitCode = 1;
    }
  }
  process.exitCode = exitCode;
}
