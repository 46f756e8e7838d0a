// Rejoining Docker's partial records: a message longer than the copier's 16 KiB buffer is logged as several
// records, and only the last one's `log` ends in "\n". The parser (json-log-parse.ts) hands every record that is
// not a whole message on its own here; the chains are bounded in bytes, records and number open at once.
// Apart from the parser because it is cold (most lines are whole messages) and its bookkeeping is its own.
// References: moby/moby daemon/logger/copier.go (16 KiB partial messages, PLogMetaData.Last),
// daemon/logger/jsonfilelog/jsonfilelog.go (marshalMessage: "\n" only on the last part);
// docs/formats/docker-json-file.md.
import { type JsonLogFileInfo, type JsonLogLimits, recordAttrs } from './json-log-limits.js';

/** attrs.partial of an event rejoined from Docker's partial records. */
export interface PartialChainInfo {
  /** Records joined. */
  chunks: number;
  /** False when the chain was cut (end of file or rotation) before its last record (the one ending in "\n"). */
  complete: boolean;
  /** True when the chain passed a limit and later records were dropped. */
  truncated?: boolean;
  times: string[];
  offsets: number[];
  lines: number[];
}

/** One open partial message (at most one per stream). */
export interface Chain {
  stream: string;
  parts: string[];
  bytes: number;
  time: bigint;
  rawTime: string;
  line: number;
  offset: number;
  dockerAttrs: unknown;
  times: string[];
  offsets: number[];
  lines: number[];
  /** After a limit cut: the event is out; drop records until the chain's last one. */
  discarding: boolean;
  discarded: number;
}

/** Emits one event: the parser's `emit`. */
export type EmitEvent = (
  time: bigint,
  message: string,
  rawTime: string,
  line: number,
  offset: number,
  attrs: Readonly<Record<string, unknown>>,
) => void;

/** The open partial chains of one file. */
export class PartialChains {
  /** Open chains, oldest first; the parser looks a record's stream up here before calling `add`. */
  readonly open: Chain[] = [];

  constructor(
    private readonly info: JsonLogFileInfo,
    private readonly limits: JsonLogLimits,
    private readonly problem: (reason: string) => void,
    private readonly emit: EmitEvent,
  ) {}

  /**
   * One decoded record of `stream` that is a link of a partial chain: `chain` is the open chain of its stream
   * (from `open`), or undefined when the record (not ending in "\n") starts a new one.
   */
  add(
    chain: Chain | undefined,
    stream: string,
    text: string,
    endsNewline: boolean,
    rawTime: string,
    time: bigint,
    dockerAttrs: unknown,
    offset: number,
    bytes: number,
    lineNo: number,
  ): void {
    const chains = this.open;
    if (chain === undefined) {
      if (chains.length >= this.limits.maxOpenPartialChains) {
        const oldest = chains.shift() as Chain;
        this.problem(
          `line ${lineNo}: more than ${this.limits.maxOpenPartialChains} partial messages open at once ` +
            `(MAX_OPEN_PARTIAL_CHAINS); emitted the one from line ${oldest.line} unfinished`,
        );
        this.emitChain(oldest, false, false);
      }
      chains.push({
        stream,
        parts: [text],
        bytes,
        time,
        rawTime,
        line: lineNo,
        offset,
        dockerAttrs,
        times: [rawTime],
        offsets: [offset],
        lines: [lineNo],
        discarding: false,
        discarded: 0,
      });
      return;
    }
    if (chain.discarding) {
      chain.discarded++;
      if (endsNewline) {
        this.problem(
          `line ${lineNo}: dropped ${chain.discarded} partial records after the message from line ` +
            `${chain.line} passed its limit`,
        );
        chains.splice(chains.indexOf(chain), 1);
      }
      return;
    }
    if (
      chain.bytes + bytes > this.limits.maxPartialChainBytes ||
      chain.parts.length + 1 > this.limits.maxPartialChainChunks
    ) {
      this.problem(
        `line ${lineNo}: partial message from line ${chain.line} longer than ` +
          `${this.limits.maxPartialChainBytes} bytes (MAX_PARTIAL_CHAIN_BYTES) or ` +
          `${this.limits.maxPartialChainChunks} records (MAX_PARTIAL_CHAIN_CHUNKS); emitted truncated`,
      );
      this.emitChain(chain, false, true);
      if (endsNewline) {
        chains.splice(chains.indexOf(chain), 1);
      } else {
        chain.discarding = true;
        chain.discarded = 1;
        chain.parts = [];
        chain.times = [];
        chain.offsets = [];
        chain.lines = [];
      }
      return;
    }
    chain.parts.push(text);
    chain.bytes += bytes;
    chain.times.push(rawTime);
    chain.offsets.push(offset);
    chain.lines.push(lineNo);
    if (endsNewline) {
      chains.splice(chains.indexOf(chain), 1);
      this.emitChain(chain, true, false);
    }
  }

  /** At the end of the file: emits every open chain as unfinished and forgets them. */
  flush(): void {
    for (const c of this.open) this.emitChain(c, false, false);
    this.open.length = 0;
  }

  private emitChain(c: Chain, complete: boolean, truncated: boolean): void {
    if (c.discarding) return;
    const attrs = recordAttrs(this.info, c.stream, c.dockerAttrs);
    const partial: PartialChainInfo = {
      chunks: c.parts.length,
      complete,
      times: c.times,
      offsets: c.offsets,
      lines: c.lines,
    };
    if (truncated) partial.truncated = true;
    attrs.partial = partial;
    this.emit(c.time, c.parts.join(''), c.rawTime, c.line, c.offset, attrs);
  }
}
