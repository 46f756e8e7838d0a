// Progress on stderr when it is a terminal; silent otherwise (scripts and CI logs stay clean).
import cliProgress from 'cli-progress';
import type { ProgressInfo } from '../triage/options.js';

export class ProgressReporter {
  private readonly bar?: cliProgress.SingleBar;
  private started = false;

  constructor(stream: NodeJS.WriteStream) {
    if (!stream.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{source} | {stage} | {value} events',
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(p: ProgressInfo): void {
    if (!this.bar) return;
    if (!this.started) {
      this.bar.start(0, 0, { source: p.source, stage: p.stage });
      this.started = true;
    }
    this.bar.update(p.events ?? 0, { source: p.source, stage: p.stage });
  }

  stop(): void {
    if (this.bar && this.started) this.bar.stop();
    this.started = false;
  }
}
