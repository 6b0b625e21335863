// npm run build:widget: bundles the chat widget (widget/main.ts) into public/widget.js, served as a
// static asset at /widget.js. `npm start` and the browser tests build it first.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";

const root = new URL("..", import.meta.url).pathname;

/** The size budget for the built file, gzipped. */
export const MAX_GZIP_BYTES = 25 * 1024;

export async function buildWidget(opts: { quiet?: boolean } = {}): Promise<{ bytes: number; gzipBytes: number }> {
  const outfile = `${root}public/widget.js`;
  await build({
    entryPoints: [`${root}widget/main.ts`],
    outfile,
    bundle: true,
    format: "iife",
    minify: true,
    target: "es2020",
    platform: "browser",
    legalComments: "none",
    logLevel: "warning",
  });
  const code = readFileSync(outfile);
  const bytes = code.byteLength;
  const gzipBytes = gzipSync(code, { level: 9 }).byteLength;
  if (!opts.quiet) console.log(`public/widget.js: ${(bytes / 1024).toFixed(1)} KiB, ${(gzipBytes / 1024).toFixed(1)} KiB gzipped`);
  if (gzipBytes > MAX_GZIP_BYTES) throw new Error(`public/widget.js is ${gzipBytes} bytes gzipped, over the ${MAX_GZIP_BYTES}-byte budget`);
  return { bytes, gzipBytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await buildWidget();
