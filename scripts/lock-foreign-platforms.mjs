// The npm registry reachable here serves only this platform's builds of packages that ship one
// binary package per platform (Biome). npm then leaves the other platforms' optional packages out
// of package-lock.json, and `npm ci` refuses the lock as out of sync. This adds them back as
// optional entries with their os/cpu/libc, which npm skips on every other platform.
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const platform = (name) => {
  const [, os, cpu, libc] = /cli-(android|darwin|linux|win32)-(arm64|x64)(?:-(musl))?$/.exec(name) ?? [];
  return os ? { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) } : undefined;
};
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `${path ? `${path}/` : ""}node_modules/${name}`.replace(
      /^node_modules\/.*?\/node_modules\//,
      "node_modules/",
    );
    if (lock.packages[`node_modules/${name}`] || lock.packages[key]) continue;
    const target = platform(name);
    if (!target) continue;
    lock.packages[`node_modules/${name}`] = {
      version,
      dev: entry.dev || undefined,
      optional: true,
      ...target,
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} foreign-platform optional packages recorded`);
