// `docker run/create/start/stop/kill/restart/rm/exec/pause/unpause` lines of a shell history -> the container
// actions they request, with the container names or id prefixes they name. A history line is a request typed
// by a user, not proof that it succeeded; the lifecycle builder keeps that distinction (request_only).
// References: docker CLI reference (docker run / create / rm / stop / kill / exec / start / restart / pause),
// docker/cli cli/command/container/opts.go (which run/create flags take a value).

export type ContainerAction = 'run' | 'create' | 'start' | 'stop' | 'kill' | 'restart' | 'rm' | 'exec' | 'pause' | 'unpause';

export interface HistoryAction {
  action: ContainerAction;
  /** Names or id prefixes the command names (for run/create: the --name, when given). */
  targets: string[];
  image?: string;
  force?: boolean;
  signal?: string;
  /** run -d / --rm and so on, for the message. */
  flags: string[];
}

/** Longest command we tokenize (a pasted script is not a docker command line). */
export const MAX_HISTORY_COMMAND_CHARS = 64 * 1024;

/** Splits a shell line into words (quotes and backslashes as in sh), and into `;`, `&&`, `||`, `|` segments. */
export function shellSegments(line: string): string[][] {
  const segments: string[][] = [];
  let words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = Math.min(line.length, MAX_HISTORY_COMMAND_CHARS);
  const endWord = (): void => {
    if (inWord) words.push(cur);
    cur = '';
    inWord = false;
  };
  while (i < n) {
    const c = line[i];
    if (c === "'") {
      const j = line.indexOf("'", i + 1);
      cur += j < 0 ? line.slice(i + 1, n) : line.slice(i + 1, j);
      inWord = true;
      i = j < 0 ? n : j + 1;
    } else if (c === '"') {
      i++;
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < n && '"\\$`'.includes(line[i + 1])) i++;
        cur += line[i++];
      }
      inWord = true;
      i++;
    } else if (c === '\\' && i + 1 < n) {
      cur += line[i + 1];
      inWord = true;
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      endWord();
      i++;
    } else if (c === ';' || c === '|' || c === '&') {
      endWord();
      if (words.length > 0) segments.push(words);
      words = [];
      i += (c === '|' || c === '&') && line[i + 1] === c ? 2 : 1;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  endWord();
  if (words.length > 0) segments.push(words);
  return segments;
}

// Flags of run/create that take no value (everything else starting with `-` and without `=` takes one).
const RUN_BOOLEAN = new Set([
  '-d', '--detach', '-i', '--interactive', '-t', '--tty', '--rm', '--privileged', '--init', '-P', '--publish-all',
  '--read-only', '--no-healthcheck', '--oom-kill-disable', '--sig-proxy', '--disable-content-trust', '-q', '--quiet',
  '--help',
]);
const EXEC_VALUE = new Set(['-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir', '--detach-keys']);
const STOP_VALUE = new Set(['-t', '--time', '-s', '--signal']);

function isShortBoolCluster(w: string): boolean {
  return /^-[dit]+$/.test(w);
}

/** The container action of one command's words (already split), or undefined. */
export function dockerAction(words: string[]): HistoryAction | undefined {
  let i = 0;
  while (i < words.length && /^(?:sudo|doas|env|nohup|time|exec|command)$/.test(words[i])) {
    i++;
    while (i < words.length && (words[i].startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]))) i++;
  }
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i])) i++;
  const tool = words[i]?.slice(words[i].lastIndexOf('/') + 1);
  if (tool !== 'docker' && tool !== 'podman' && tool !== 'nerdctl') return undefined;
  i++;
  // global flags before the subcommand
  while (i < words.length && words[i].startsWith('-')) {
    const w = words[i];
    i += /^(?:-H|--host|-c|--context|--config|-l|--log-level)$/.test(w) ? 2 : 1;
  }
  let sub = words[i++];
  if (sub === 'container' && i < words.length) sub = words[i++];
  const alias: Record<string, ContainerAction> = { remove: 'rm', delete: 'rm' };
  const action = (alias[sub ?? ''] ?? sub) as ContainerAction;
  const rest = words.slice(i);
  switch (action) {
    case 'run':
    case 'create':
      return runLike(action, rest);
    case 'exec': {
      const flags: string[] = [];
      for (let j = 0; j < rest.length; j++) {
        const w = rest[j];
        if (w === '--') continue;
        if (w.startsWith('-')) {
          flags.push(w);
          if (EXEC_VALUE.has(w)) j++;
          continue;
        }
        return { action, targets: [w], flags };
      }
      return undefined;
    }
    case 'start':
    case 'stop':
    case 'kill':
    case 'restart':
    case 'rm':
    case 'pause':
    case 'unpause': {
      const targets: string[] = [];
      const flags: string[] = [];
      let signal: string | undefined;
      for (let j = 0; j < rest.length; j++) {
        const w = rest[j];
        if (w.startsWith('-')) {
          flags.push(w);
          if (w.startsWith('--signal=')) signal = w.slice(9);
          else if (STOP_VALUE.has(w)) {
            if (w === '-s' || w === '--signal') signal = rest[j + 1];
            j++;
          }
          continue;
        }
        if (w.includes('$') || w.includes('`')) break; // $(docker ps -aq), $ID: nothing we can name
        targets.push(w);
      }
      if (targets.length === 0) return undefined;
      const force = action === 'rm' && flags.some((f) => f === '-f' || f === '--force' || /^-[a-z]*f[a-z]*$/.test(f));
      const out: HistoryAction = { action, targets, flags };
      if (force) out.force = true;
      if (signal !== undefined) out.signal = signal;
      else if (action === 'kill') out.signal = 'KILL';
      return out;
    }
    default:
      return undefined;
  }
}

function runLike(action: 'run' | 'create', rest: string[]): HistoryAction {
  let name: string | undefined;
  let image: string | undefined;
  const flags: string[] = [];
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j];
    if (w === '--name') {
      name = rest[++j];
      continue;
    }
    if (w.startsWith('--name=')) {
      name = w.slice(7);
      continue;
    }
    if (w.startsWith('-')) {
      if (RUN_BOOLEAN.has(w) || isShortBoolCluster(w)) flags.push(w);
      else if (!w.includes('=')) j++;
      continue;
    }
    image = w;
    break;
  }
  const out: HistoryAction = { action, targets: name !== undefined ? [name] : [], flags };
  if (image !== undefined) out.image = image;
  return out;
}

/** Every container action of one history line. */
export function historyActions(line: string): HistoryAction[] {
  const out: HistoryAction[] = [];
  for (const seg of shellSegments(line)) {
    const a = dockerAction(seg);
    if (a) out.push(a);
  }
  return out;
}
