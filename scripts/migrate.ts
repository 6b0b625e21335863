// npm run migrate [-- --remote] [-- --persist-to DIR]: applies the D1 migrations to every database
// wrangler.toml binds (CONTROL takes migrations/control/, each SHARD_* migrations/; see
// migrationTargets in scripts/deploy-plan.ts). Locally by default (wrangler's local D1, or the one
// under --persist-to); --remote applies them to the account's databases through wrangler.deploy.toml,
// which `npm run deploy` writes with their real ids.
import { existsSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { DEPLOY_CONFIG, migrateCommand, migrationTargets, parseWranglerToml } from "./deploy-plan.ts";
import { must, root } from "./deploy-wrangler.ts";

export function main(argv: string[]): number {
  const remote = argv.includes("--remote");
  const at = argv.indexOf("--persist-to");
  const persistTo = at >= 0 ? argv[at + 1] : undefined;
  const unknown = argv.filter((a, i) => a !== "--remote" && a !== "--persist-to" && !(at >= 0 && i === at + 1));
  if (unknown.length || (at >= 0 && !persistTo) || (remote && persistTo)) {
    console.error("usage: npm run migrate [-- --remote | -- --persist-to DIR]");
    return 1;
  }
  if (remote && !existsSync(`${root}${DEPLOY_CONFIG}`)) {
    console.error(`npm run migrate -- --remote: ${DEPLOY_CONFIG} is missing; npm run deploy writes it (with the databases' real ids)`);
    return 1;
  }
  const config = parseWranglerToml(readFileSync(`${root}wrangler.toml`, "utf8"));
  try {
    for (const t of migrationTargets(config)) {
      console.log(`${t.binding} (${t.migrationsDir}/), ${remote ? "remote" : "local"}:`);
      must(["wrangler", ...migrateCommand(t.binding, { remote, persistTo })], { echo: true });
    }
  } catch (e) {
    console.error(`npm run migrate: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = main(process.argv.slice(2));
