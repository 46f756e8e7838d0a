// Browsing commands: `flotsam info IMAGE`, `ls IMAGE[:PATH]`, `cat IMAGE PATH`, `stat IMAGE PATH` — a consultant's
// quick look at evidence (a disk image or a directory) without mounting it. Plain handlers writing to a stream, plus
// registerBrowseCommands() for the yargs shell in main.ts. Everything printed from evidence is made terminal-safe.
//
// The handlers live in browse-info.ts (info) and browse-files.ts (ls, cat, stat), their shared helpers in
// browse-common.ts; this module registers them with yargs and re-exports them.
import type { Argv } from 'yargs';
import { catCommand, lsCommand, statCommand } from './browse-files.js';
import { infoCommand } from './browse-info.js';

export { MAX_XATTR_SHOWN, formatXattrValue, modeString, parseTarget, printable } from './browse-common.js';
export {
  type CatArgs,
  type LsArgs,
  MAX_LS_DEPTH,
  MAX_LS_ENTRIES,
  type StatArgs,
  catCommand,
  lsCommand,
  statCommand,
} from './browse-files.js';
export { type InfoArgs, infoCommand } from './browse-info.js';

// ------------------------------------------------------------------------------------------------------ yargs

/** `flotsam ls ... | head`: a closed pipe ends the command quietly instead of as an internal error. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export function registerBrowseCommands(y: Argv): Argv {
  return y
    .middleware((argv) => {
      if (['info', 'ls', 'cat', 'stat'].includes(String(argv._[0]))) quietOnClosedPipe();
    })
    .command(
      'info <image>',
      'Describe evidence: partitions, file systems, the Linux root and its mounts, OS, Docker data roots',
      (a) =>
        a
          .positional('image', { type: 'string', demandOption: true, describe: 'disk image or directory' })
          .option('json', { type: 'boolean', default: false, describe: 'JSON output' }),
      async (a) => infoCommand({ image: a.image as string, json: a.json as boolean }, process.stdout),
    )
    .command(
      'ls <target>',
      'List a directory of the evidence (IMAGE[:PATH])',
      (a) =>
        a
          .positional('target', { type: 'string', demandOption: true, describe: 'IMAGE[:PATH]' })
          .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'mode, links, owner, size, mtime, inode' })
          .option('recursive', { alias: 'r', type: 'boolean', default: false, describe: 'descend into directories (full paths)' })
          .example('$0 ls disk.img:/var/lib/docker -l', ''),
      async (a) => lsCommand({ target: a.target as string, long: a.long as boolean, recursive: a.recursive as boolean }, process.stdout),
    )
    .command(
      'cat <image> <path>',
      'Write a file of the evidence to stdout',
      (a) =>
        a
          .positional('image', { type: 'string', demandOption: true })
          .positional('path', { type: 'string', demandOption: true }),
      async (a) => catCommand({ image: a.image as string, path: a.path as string }, process.stdout),
    )
    .command(
      'stat <image> <path>',
      'Inode metadata of a path in the evidence: all times in ns with crtime, inode, mode, owner, xattrs',
      (a) =>
        a
          .positional('image', { type: 'string', demandOption: true })
          .positional('path', { type: 'string', demandOption: true })
          .option('follow', { alias: 'L', type: 'boolean', default: false, describe: 'follow a final symlink' })
          .option('json', { type: 'boolean', default: false, describe: 'JSON output' }),
      async (a) =>
        statCommand({ image: a.image as string, path: a.path as string, follow: a.follow as boolean, json: a.json as boolean }, process.stdout),
    );
}
