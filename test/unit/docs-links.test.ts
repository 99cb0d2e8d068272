/**
 * The docs stand alone: every relative link in the repository's markdown resolves (file, and
 * #anchor when it points into a markdown heading), and every `*.md` that a source comment cites
 * exists (a bare name such as `signin-method.md` means docs/<name>).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPORT_FILES } from '../../src/experiments/paths';
import { ROOT as root, repoFiles } from '../helpers/doc-references';

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const body = markdown.replace(/^```[^]*?^```/gm, '');
  for (const m of body.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1].replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative link targets of a markdown text (inline links and images, not inside code). */
function links(markdown: string): string[] {
  const body = markdown.replace(/^```[^]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...body.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1])
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

const exists = (rel: string) => fs.existsSync(path.join(root, rel));

describe('links between docs', () => {
  const files = repoFiles();

  it('finds the markdown files', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/errors.md']));
  });

  it('every relative link in *.md resolves, anchors included', () => {
    const broken: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.md'))) {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      for (const target of links(text)) {
        const [rawPath, anchor] = target.split('#');
        const rel = rawPath === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(rawPath)));
        if (!exists(rel)) broken.push(`${file}: ${target} (no ${rel})`);
        else if (anchor && rel.endsWith('.md') && fs.existsSync(path.join(root, rel))
          && !headingAnchors(fs.readFileSync(path.join(root, rel), 'utf8')).has(anchor)) {
          broken.push(`${file}: ${target} (no heading #${anchor} in ${rel})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('every doc a source file cites exists', () => {
    const missing: string[] = [];
    const generated = new Set<string>(Object.values(REPORT_FILES)); // files the code writes, not docs it cites
    const sources = files.filter((f) => /\.(ts|cc|h|cu|sh|cjs|json)$/.test(f) && !f.startsWith('docs/results/'));
    for (const file of sources) {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      for (const m of text.matchAll(/(?<![\w/.-])((?:[\w.-]+\/)*[\w-]+\.md)\b/g)) {
        const cited = m[1];
        if (generated.has(cited)) continue;
        const candidates = cited.includes('/') ? [cited] : [cited, `docs/${cited}`];
        if (!candidates.some(exists)) missing.push(`${file}: ${cited}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('anchors follow GitHub: punctuation dropped, repeats numbered', () => {
    expect([...headingAnchors('# What the main job shows\n## `tidy` and keep()\n## Notes\n## Notes\n')])
      .toEqual(['what-the-main-job-shows', 'tidy-and-keep', 'notes', 'notes-1']);
  });
});
