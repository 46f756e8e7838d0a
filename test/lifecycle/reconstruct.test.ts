// Lifecycle reconstruction from literal event lists: clustering and corroboration, restart counting, conflicts,
// removed inference, shell-history names linked to ids, and the named caps.
import { describe, expect, it } from 'vitest';
import { ProblemLog, TimeDesc, type TimelineEvent } from '../../src/events/event.js';
import { computeEventId, fnv1a64 } from '../../src/events/event-id.js';
import { LifecycleBuilder } from '../../src/lifecycle/reconstruct.js';
import { historyActions } from '../../src/lifecycle/history-commands.js';
import { lifecycleEvents, lifecycleRow } from '../../src/lifecycle/output.js';
import type { ContainerRecord } from '../../src/collectors/docker/containers.js';

const HOST = 'h';
const ID = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);
const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;

function daemon(id: string, t: bigint, kind: 'shim-start' | 'shim-disconnected' | 'task-delete-topic', line: number, extra: Record<string, unknown> = {}): TimelineEvent {
  const attrs: Record<string, unknown> =
    kind === 'task-delete-topic'
      ? { event_kind: 'ignoring-event', topic: '/tasks/delete', lifecycle: 'delete' }
      : { event_kind: kind, lifecycle: kind === 'shim-start' ? 'create' : 'exit' };
  return {
    time: t,
    timestamp_desc: TimeDesc.recorded,
    source: kind === 'task-delete-topic' ? 'docker:daemon' : 'containerd:daemon',
    host: HOST,
    container_id: id,
    message: kind,
    path: '/var/log/docker.log',
    line,
    offset: line * 100,
    raw_time: '',
    attrs: { ...attrs, ...extra },
  };
}

function config(id: string, name: string, event: 'created' | 'started' | 'finished', t: bigint, extra: Record<string, unknown> = {}): TimelineEvent {
  return {
    time: t,
    timestamp_desc: event === 'created' ? TimeDesc.creation : event === 'started' ? TimeDesc.start : TimeDesc.end,
    source: 'docker:container',
    host: HOST,
    container_id: id,
    container_name: name,
    message: event,
    path: `/var/lib/docker/containers/${id}/config.v2.json`,
    raw_time: '',
    attrs: { event, field: event === 'created' ? 'Created' : event === 'started' ? 'State.StartedAt' : 'State.FinishedAt', image: 'img:1', ...extra },
  };
}

function history(cmd: string, t: bigint, line: number): TimelineEvent {
  return {
    time: t,
    timestamp_desc: TimeDesc.recorded,
    source: 'bash_history',
    host: HOST,
    message: cmd,
    path: '/root/.bash_history',
    line,
    offset: line * 50,
    raw_time: '',
    attrs: { docker_command: true, shell: 'bash' },
  };
}

function logEdge(id: string, t: bigint, offset: number): TimelineEvent {
  return {
    time: t,
    timestamp_desc: TimeDesc.recorded,
    source: 'docker:json-log',
    host: HOST,
    container_id: id,
    message: 'x',
    path: `/var/lib/docker/containers/${id}/${id}-json.log`,
    offset,
    raw_time: '',
    attrs: { stream: 'stdout' },
  };
}

function record(id: string, name: string, over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id,
    name,
    imageName: 'img:1',
    restartPolicy: { name: 'always' },
    restartCount: 0,
    running: false,
    restarting: false,
    oomKilled: false,
    started: { raw: '', zero: true },
    finished: { raw: '', zero: true },
    created: { raw: '', zero: true },
    status: 'exited(1)',
    ...over,
  } as ContainerRecord;
}

function build(events: TimelineEvent[], records: ContainerRecord[] = [], limits = {}) {
  const problems = new ProblemLog();
  const b = new LifecycleBuilder(HOST, problems, limits);
  for (const r of records) b.addRecord(r);
  for (const e of events) b.add(e);
  return { lcs: b.finish(), problems };
}

describe('event ids', () => {
  it('FNV-1a 64 matches the reference vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });
  it('depends on provenance and time, not on attrs or message; offset wins over line', () => {
    const a = logEdge(ID, T0, 10);
    const b = { ...a, attrs: { lifecycle_edge: 'last' }, line: 99, message: 'other' };
    expect(computeEventId(a)).toBe(computeEventId(b));
    expect(computeEventId({ ...a, offset: 11 })).not.toBe(computeEventId(a));
    expect(computeEventId({ ...a, time: T0 + 1n })).not.toBe(computeEventId(a));
    expect(computeEventId(a)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('clustering and corroboration', () => {
  it('one start seen by config, daemon and history within the tolerance is one corroborated transition', () => {
    const { lcs } = build([
      history(`docker run -d --name web img:1`, T0, 1),
      config(ID, 'web', 'created', T0 + S / 2n),
      daemon(ID, T0 + S, 'shim-start', 1),
      config(ID, 'web', 'started', T0 + S + S / 5n),
    ], [record(ID, 'web', { running: true, status: 'running', restartPolicy: { name: '' } })]);
    expect(lcs).toHaveLength(1);
    const starts = lcs[0].transitions.filter((t) => t.kind === 'started');
    expect(starts).toHaveLength(1);
    expect(starts[0].confidence).toBe('corroborated');
    expect(starts[0].sources).toEqual(['bash_history', 'containerd:daemon', 'docker:container']);
    expect(starts[0].time).toBe(T0 + S + S / 5n); // the config's time wins
    expect(starts[0].evidence.map((e) => e.id)).toContain(computeEventId(daemon(ID, T0 + S, 'shim-start', 1)));
  });

  it('observations further apart than the tolerance are not corroborating', () => {
    const { lcs } = build([daemon(ID, T0, 'shim-start', 1), config(ID, 'x', 'started', T0 + 3n * S)], [record(ID, 'x')]);
    const starts = lcs[0].transitions.filter((t) => t.kind === 'started');
    expect(starts.map((t) => t.confidence)).toEqual(['observed', 'observed']);
  });

  it('two daemon lines of one exit (shim disconnected + /tasks/delete) are one observed death, not corroborated', () => {
    const { lcs } = build([daemon(ID, T0, 'shim-start', 1), daemon(ID, T0 + S, 'shim-disconnected', 2), daemon(ID, T0 + S + 1000n, 'task-delete-topic', 3)]);
    const dies = lcs[0].transitions.filter((t) => t.kind === 'died');
    expect(dies).toHaveLength(1);
    expect(dies[0].confidence).toBe('observed');
    expect(dies[0].evidence).toHaveLength(2);
  });

  it('a StartedAt recorded after a very fast exit stays one run (conflict shown)', () => {
    const { lcs } = build(
      [daemon(ID, T0, 'shim-start', 1), config(ID, 'x', 'finished', T0 + S / 2n, { exit_code: 0 }), config(ID, 'x', 'started', T0 + S / 2n + 1000n), daemon(ID, T0 + S / 2n + 5000n, 'shim-disconnected', 2)],
      [record(ID, 'x', { restartPolicy: { name: '' }, started: { raw: 's', ns: T0 + S / 2n + 1000n, zero: false }, finished: { raw: 'f', ns: T0 + S / 2n, zero: false } })],
    );
    const kinds = lcs[0].transitions.map((t) => t.kind);
    expect(kinds).toEqual(['started', 'died']);
    expect(lcs[0].transitions[0].time).toBe(T0); // the daemon's time, not the raced StartedAt
    expect(lcs[0].conflicts.join()).toMatch(/FinishedAt .* before State.StartedAt/);
  });
});

describe('restarts', () => {
  const flappy = (n: number): TimelineEvent[] => {
    const out: TimelineEvent[] = [history('docker run -d --name flappy --restart always img:1', T0, 1), config(ID, 'flappy', 'created', T0 + S / 10n)];
    for (let i = 0; i < n; i++) {
      const t = T0 + BigInt(i) * 2n * S + S / 4n;
      out.push(daemon(ID, t, 'shim-start', 10 + 3 * i), daemon(ID, t + S, 'shim-disconnected', 11 + 3 * i), daemon(ID, t + S + 2000n, 'task-delete-topic', 12 + 3 * i));
    }
    return out;
  };
  it('counts starts and policy restarts; RestartCount of a restarting container includes the pending one', () => {
    const { lcs } = build(flappy(6), [record(ID, 'flappy', { restartCount: 6, restarting: true, running: true, status: 'restarting(1)' })]);
    const row = lifecycleRow(lcs[0]);
    expect(row.starts).toBe('6');
    expect(row.restarts_observed).toBe('5');
    expect(lcs[0].transitions.filter((t) => t.kind === 'died')).toHaveLength(6);
    expect(lcs[0].transitions.filter((t) => t.restart).every((t) => t.by === 'policy')).toBe(true);
    expect(lcs[0].conflicts).toEqual([]);
  });
  it('a RestartCount larger than the restarts in the evidence is a conflict', () => {
    const { lcs } = build(flappy(3), [record(ID, 'flappy', { restartCount: 3 })]);
    expect(lcs[0].conflicts.join()).toMatch(/RestartCount 3 in config but 2 policy restarts/);
  });
  it('a start typed by a user after a death is a restart by the user', () => {
    const { lcs } = build([daemon(ID, T0, 'shim-start', 1), daemon(ID, T0 + S, 'shim-disconnected', 2), history(`docker start ${ID.slice(0, 12)}`, T0 + 10n * S, 3), daemon(ID, T0 + 10n * S + S / 2n, 'shim-start', 4)]);
    const s = lcs[0].transitions.filter((t) => t.kind === 'started');
    expect(s[1]).toMatchObject({ restart: true, by: 'user', confidence: 'corroborated' });
  });
});

describe('removed containers and names', () => {
  it('daemon evidence without a container directory infers the removal after the last evidence', () => {
    const { lcs } = build([daemon(ID2, T0, 'shim-start', 1), daemon(ID2, T0 + S, 'shim-disconnected', 2)]);
    expect(lcs[0].removed).toBe('inferred');
    const rm = lcs[0].transitions.at(-1);
    expect(rm).toMatchObject({ kind: 'removed', confidence: 'inferred', time: T0 + S });
    expect(lifecycleEvents(lcs).at(-1)?.attrs?.time_is_lower_bound).toBe(true);
  });

  it('the first log line infers a start when nothing else records one', () => {
    const { lcs } = build([logEdge(ID2, T0, 0), logEdge(ID2, T0 + 5n * S, 900)]);
    expect(lcs[0].transitions[0]).toMatchObject({ kind: 'started', confidence: 'inferred', time: T0 });
    expect(lcs[0].last_seen).toBe(T0 + 5n * S);
  });

  it('`docker run --name X` links X to the unnamed id first seen after it; `docker rm X` removes it', () => {
    const { lcs } = build([
      history('docker run -d --name gone img:1 sh -c "sleep 1"', T0, 1),
      daemon(ID2, T0 + S, 'shim-start', 1),
      history('docker rm -f gone', T0 + 3n * S, 2),
      daemon(ID2, T0 + 3n * S + S / 3n, 'shim-disconnected', 2),
    ]);
    expect(lcs).toHaveLength(1);
    const lc = lcs[0];
    expect(lc.id).toBe(ID2);
    expect(lc.names).toEqual(['gone']);
    expect(lc.name_links[0]).toMatch(/linked by time/);
    expect(lc.removed).toBe('yes');
    expect(lc.transitions.map((t) => `${t.kind}:${t.confidence}`)).toEqual(['created:observed', 'started:corroborated', 'removed:corroborated', 'died:observed']);
    expect(lc.transitions[0].request_only).toBe(true);
  });

  it('two unnamed candidates leave the name unlinked (no guess)', () => {
    const { lcs } = build([history('docker run --name twin img:1', T0, 1), daemon(ID, T0 + S, 'shim-start', 1), daemon(ID2, T0 + S, 'shim-start', 2)]);
    const named = lcs.find((l) => l.id === '');
    expect(named?.names).toEqual(['twin']);
    expect(named?.name_links[0]).toMatch(/not linked: 2 unnamed/);
    expect(named?.removed).toBe('unknown');
  });

  it('a known name from a config takes the history lines naming it; an rm of a present container is a conflict', () => {
    const { lcs } = build([config(ID, 'web', 'created', T0), history('docker exec web id', T0 + 5n * S, 1), history('docker rm web', T0 + 9n * S, 2)], [record(ID, 'web')]);
    expect(lcs).toHaveLength(1);
    expect(lcs[0].transitions.map((t) => t.kind)).toEqual(['created', 'exec', 'removed']);
    expect(lcs[0].conflicts.join()).toMatch(/still holds its config/);
  });

  it('an id prefix (journald CONTAINER_ID) merges into the full id', () => {
    const { lcs } = build([daemon(ID, T0, 'shim-start', 1), { ...logEdge(ID.slice(0, 12), T0 + S, 0), source: 'docker:journald-log', container_name: 'j' }]);
    expect(lcs).toHaveLength(1);
    expect(lcs[0].names).toEqual(['j']);
  });
});

describe('carved evidence', () => {
  it('a removed container known only from a carved config and carved log lines gets its runs; removal inferred', () => {
    const carved = (e: TimelineEvent): TimelineEvent => ({ ...e, source: 'carve:docker-config', path: '/dev/sda1', offset: 4096, attrs: { ...e.attrs, recovered: 'carved' } });
    const { lcs } = build([
      carved(config(ID2, 'old', 'created', T0)),
      carved(config(ID2, 'old', 'started', T0 + S)),
      carved(config(ID2, 'old', 'finished', T0 + 9n * S, { exit_code: 2 })),
      { ...logEdge(ID2, T0 + 2n * S, 0), source: 'carve:json-log' },
    ]);
    expect(lcs[0].transitions.map((t) => `${t.kind}:${t.confidence}`)).toEqual(['created:observed', 'started:observed', 'died:observed', 'removed:inferred']);
    expect(lcs[0].transitions[2].exit_code).toBe(2);
    expect(lcs[0].names).toEqual(['old']);
  });
  it('a carved copy of a live config does not corroborate it (same writer)', () => {
    const { lcs } = build([config(ID, 'x', 'created', T0), { ...config(ID, 'x', 'created', T0), source: 'carve:docker-config', path: '/dev/sda1', offset: 1 }], [record(ID, 'x')]);
    expect(lcs[0].transitions[0]).toMatchObject({ kind: 'created', confidence: 'observed' });
  });
});

describe('caps', () => {
  it('observations per container are capped with a problem', () => {
    const evs: TimelineEvent[] = [];
    for (let i = 0; i < 50; i++) evs.push(daemon(ID, T0 + BigInt(i) * 3n * S, 'shim-start', i));
    const { lcs, problems } = build(evs, [], { maxObservationsPerContainer: 10 });
    expect(lcs[0].transitions.filter((t) => t.kind === 'started')).toHaveLength(10);
    expect(problems.problems.map((p) => p.reason).join()).toMatch(/MAX_OBSERVATIONS_PER_CONTAINER/);
    expect(lcs[0].conflicts.join()).toMatch(/40 observations beyond/);
  });
  it('containers are capped with a problem', () => {
    const evs: TimelineEvent[] = [];
    for (let i = 0; i < 20; i++) evs.push(daemon(i.toString(16).padStart(64, '0'), T0, 'shim-start', i));
    const { lcs, problems } = build(evs, [], { maxContainers: 5 });
    expect(lcs).toHaveLength(5);
    expect(problems.problems.map((p) => p.reason).join()).toMatch(/MAX_LIFECYCLE_CONTAINERS/);
  });
});

describe('history commands', () => {
  it('parses run/create names and images, rm -f, exec targets, kill signals and chained commands', () => {
    expect(historyActions(`docker run -d --name web --restart unless-stopped -p 0.0.0.0:8080:80 --label a=b sample/web:1.0 sh -c 'x'`)).toEqual([
      { action: 'run', targets: ['web'], image: 'sample/web:1.0', flags: ['-d'] },
    ]);
    expect(historyActions('sudo docker container rm -f gone other')).toEqual([{ action: 'rm', targets: ['gone', 'other'], flags: ['-f'], force: true }]);
    expect(historyActions("docker exec -u root -it web sh -c 'id'")[0]).toMatchObject({ action: 'exec', targets: ['web'] });
    expect(historyActions('docker kill -s HUP web && docker start web')).toMatchObject([
      { action: 'kill', targets: ['web'], signal: 'HUP' },
      { action: 'start', targets: ['web'] },
    ]);
    expect(historyActions('docker ps -a')).toEqual([]);
    expect(historyActions('docker rm $(docker ps -aq)')).toEqual([]);
    expect(historyActions("docker run -d --name tamper bb:latest sh -c '")[0]).toMatchObject({ targets: ['tamper'], image: 'bb:latest' });
  });
});
