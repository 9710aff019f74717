// @ts-check
// Metadata on merchant objects: the request's keys merged into the stored ones by the core, and the update route
// every resource with metadata shares.
import { json } from "../http.js";

/** The row's metadata after this request (JSON text to store). @param {any} r @param {string|null} [stored] */
export const mergedMetadata = (r, stored = null) =>
  JSON.stringify(r.core.mergeMetadata(stored ? JSON.parse(stored) : {}, r.body));

/**
 * `PUT <path>` that merges metadata into one row: keys merge, an empty value deletes a key.
 * @param {string} path @param {string} table @param {(r: any, guid: string) => any} find @param {(r: any, row: any) => any} view
 */
export function metadataRoute(path, table, find, view) {
  return ["PUT", path, (r) => {
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const row = find(r, guid);
      r.db.update(table, guid, { metadata: mergedMetadata(r, row.metadata), updated_at: now });
    });
    return json(view(r, find(r, guid)));
  }];
}
