// Timeline events of a Docker image (created, last updated, one per history step), apart from the readers
// (images.ts, image-graph.ts) so what an ImageRecord says and how it is shown on the timeline stay separate.
// References: moby/moby `image/image.go` (created, history[].created/created_by), `image/fs.go`
// (imagedb/metadata/sha256/<id>/lastUpdated).
import { TimeDesc, type ProblemLog, type TimelineEvent } from '../../events/event.js';
import { type ImageRecord, MAX_MESSAGE_CREATED_BY } from './image-config.js';

function imageLabel(img: ImageRecord): string {
  const name = img.tags[0] ?? img.digests[0];
  const short = (img.id.startsWith('sha256:') ? img.id.slice(7) : img.id).slice(0, 12);
  return name ? `${name} (${short})` : short;
}

/** Image created, lastUpdated and one event per history step. */
export function imageEvents(img: ImageRecord, host: string, _problems?: ProblemLog): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  const attrs = { image_id: img.id, tags: img.tags, digests: img.digests, driver: img.driver, layout: img.layout };
  if (img.created.ns !== undefined) {
    out.push({
      time: img.created.ns,
      timestamp_desc: TimeDesc.creation,
      source: 'docker:image',
      host,
      message: `Image ${imageLabel(img)} created` + (img.architecture ? ` (${img.os}/${img.architecture})` : ''),
      path: img.configPath,
      raw_time: img.created.raw,
      attrs: { ...attrs, event: 'created', field: 'created', author: img.author, docker_version: img.dockerVersion },
    });
  }
  if (img.lastUpdated?.ns !== undefined && img.lastUpdatedPath) {
    out.push({
      time: img.lastUpdated.ns,
      timestamp_desc: TimeDesc.lastUpdate,
      source: 'docker:image',
      host,
      message: `Image ${imageLabel(img)} last updated (pulled, tagged or loaded)`,
      path: img.lastUpdatedPath,
      raw_time: img.lastUpdated.raw,
      attrs: { ...attrs, event: 'last-updated', field: 'lastUpdated' },
    });
  }
  if (img.layout === 'v2') {
    img.history.forEach((h, i) => {
      if (h.created.ns === undefined) return;
      out.push({
        time: h.created.ns,
        timestamp_desc: TimeDesc.creation,
        source: 'docker:image-history',
        host,
        message:
          `Image ${imageLabel(img)} history step ${i + 1}/${img.history.length}` +
          `${h.emptyLayer ? ' (empty layer)' : ''}: ${h.createdBy.slice(0, MAX_MESSAGE_CREATED_BY)}`,
        path: img.configPath,
        raw_time: h.created.raw,
        attrs: { ...attrs, event: 'history', step: i, created_by: h.createdBy, empty_layer: h.emptyLayer, author: h.author, comment: h.comment },
      });
    });
  }
  return out;
}
