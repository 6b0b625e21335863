// npm run build:web: bundles the agent desktop (web/desk) and the supervisor console (web/console),
// Preact through esbuild, into public/app/ (ES modules with a shared chunk), plus the stylesheet.
// Served as static assets: /desk/ and /console/ are the pages (public/desk, public/console).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";

const root = new URL("..", import.meta.url).pathname;

export async function buildWeb(opts: { quiet?: boolean } = {}): Promise<{ files: Record<string, { bytes: number; gzipBytes: number }> }> {
  const outdir = `${root}public/app`;
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { desk: `${root}web/desk/main.tsx`, console: `${root}web/console/main.tsx`, platform: `${root}web/platform/main.tsx` },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    sourcemap: "linked",
    target: "es2022",
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    logLevel: "warning",
    chunkNames: "chunk-[hash]",
  });
  copyFileSync(`${root}web/app.css`, `${outdir}/app.css`);
  const files: Record<string, { bytes: number; gzipBytes: number }> = {};
  for (const f of readdirSync(outdir).filter((n) => /\.(js|css)$/.test(n))) {
    const b = readFileSync(`${outdir}/${f}`);
    files[f] = { bytes: b.byteLength, gzipBytes: gzipSync(b, { level: 9 }).byteLength };
  }
  if (!opts.quiet) {
    const total = Object.values(files).reduce((n, f) => n + f.gzipBytes, 0);
    console.log(`public/app: ${Object.keys(files).length} files, ${(total / 1024).toFixed(1)} KiB gzipped`);
  }
  return { files };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await buildWeb();
