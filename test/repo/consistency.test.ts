// Keeps the static tables, the format pages and the README from drifting apart: every image opener and host
// collector has a docs/formats page, every page is linked from nowhere-but-exists for a reason (it names the tests
// that cover it), and the README's two set-up commands are the package's real scripts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IMAGE_OPENERS } from '../../src/io/index.js';
import { HOST_COLLECTORS } from '../../src/collectors/registry.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = path.join(REPO, 'docs/formats');
const page = (name: string): string => path.join(DOCS, `${name}.md`);

/** Opener / collector name -> the page that documents it (when the names differ). */
const PAGE_OF: Record<string, string> = {
  'split-raw': 'raw',
  ewf: 'ewf',
  'auth-log': 'auth-log',
  'shell-history': 'bash-history',
  utmp: 'utmp',
};

describe('repository consistency', () => {
  it('every image opener has a docs/formats page', () => {
    for (const o of IMAGE_OPENERS) expect(fs.existsSync(page(PAGE_OF[o.name] ?? o.name)), o.name).toBe(true);
  });

  it('every host collector has a docs/formats page', () => {
    for (const c of HOST_COLLECTORS) {
      const name = PAGE_OF[c.name] ?? c.name;
      const candidates = [name, name.replace(/-log$/, ''), `${name}-log`];
      expect(candidates.some((n) => fs.existsSync(page(n))), c.name).toBe(true);
    }
  });

  it('every format page says which tests cover it', () => {
    for (const f of fs.readdirSync(DOCS).filter((n) => n.endsWith('.md'))) {
      const text = fs.readFileSync(path.join(DOCS, f), 'utf8');
      expect(/test\//.test(text), `${f} names no test`).toBe(true);
    }
  });

  it("the README's set-up commands are real package scripts", () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm ci && npm test');
    expect(pkg.scripts.demo).toMatch(/sample-images\//);
    expect(fs.existsSync(path.join(REPO, pkg.scripts.demo.split(' ')[3]))).toBe(true);
    expect(pkg.scripts.test).toContain('vitest run');
  });
});
