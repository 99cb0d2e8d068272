/**
 * A downloaded tarball unpacked: only the members its loader reads, each checked (type, size,
 * path inside the folder) before anything is kept (src/data/download.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { quoteText } from '../quote';
import { DownloadError, reasonOf } from './download-fetch';
import type { UnpackSpec } from './download-sources';

/** The most bytes a member without a set size (the class names) may have. */
const MAX_NAMES_BYTES = 64 * 1024;

/** Whether a member's path, as the archive names it, leads outside the folder: absolute, a drive, or a '..' part. */
function escapes(p: string): boolean {
  const parts = p.replace(/\\/g, '/').split('/');
  return p.startsWith('/') || /^[a-zA-Z]:/.test(p) || parts.includes('..');
}

/**
 * Extracts the spec's members of `archive` into `into`/<folder>; anything else in the archive is
 * skipped, and a member that would land outside `into`, or a link or folder where a file belongs,
 * refuses the whole archive.
 */
export async function unpack(archive: string, into: string, spec: UnpackSpec): Promise<void> {
  const wanted = new Map(spec.members.map((m) => [`${spec.folder}/${m.name}`, m]));
  const input = fs.createReadStream(archive);
  let refusal: DownloadError | undefined;
  // The rest of the archive is read and skipped rather than cut off: tar may still be writing the
  // members before the refused one, and the caller removes the folder they are in once this returns.
  const refuse = (why: string): false => {
    refusal ??= new DownloadError(`${path.basename(archive)} is refused: ${why}; nothing of it was kept`);
    return false;
  };
  const extract = tar.x({
    cwd: into,
    strict: true,
    preserveOwner: false,
    filter: (p, entry) => {
      if (refusal) return false;
      if (escapes(p)) return refuse(`its member ${quoteText(p)} would be written outside the folder`);
      const name = p.replace(/^(\.\/)+/, '');
      const m = wanted.get(name);
      if (m === undefined) return false;
      const { type, size } = entry as tar.ReadEntry;
      if (type !== 'File') return refuse(`its member ${quoteText(name)} is a ${type}, not a file`);
      if (m.size !== undefined ? size !== m.size : size > MAX_NAMES_BYTES) {
        return refuse(`its member ${quoteText(name)} is ${size} bytes, ${m.size !== undefined ? `not ${m.size}` : `more than ${MAX_NAMES_BYTES}`}`);
      }
      return true;
    },
  });
  try {
    await pipeline(input, extract);
  } catch (e) {
    throw refusal ?? new DownloadError(`${path.basename(archive)} could not be unpacked: ${reasonOf(e)}`, { cause: e });
  }
  if (refusal) throw refusal;
  for (const m of spec.members) {
    if (m.size === undefined) continue;
    const st = fs.statSync(path.join(into, spec.folder, m.name), { throwIfNoEntry: false });
    if (st?.size !== m.size) throw new DownloadError(`${path.basename(archive)} has no member ${spec.folder}/${m.name} of ${m.size} bytes; nothing of it was kept`);
  }
}
