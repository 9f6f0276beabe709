// Unit tests of the front end's plain TypeScript modules in Node's own test runner. Node 20 does
// not run TypeScript: esbuild (the project's bundler) bundles each test file with what it
// imports into build/test first. `npm test`; `make js-test` runs it.
import * as esbuild from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, "build", "test");
const tests = readdirSync(join(root, "test")).filter((f) => f.endsWith(".test.ts")).sort();

rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: tests.map((f) => join(root, "test", f)),
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "inline",
  logLevel: "warning",
});
const files = tests.map((f) => join(outdir, f.replace(/\.ts$/, ".mjs")));
const run = spawnSync(process.execPath, ["--enable-source-maps", "--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(run.status ?? 1);
