// `culprit import DIR...`: CLI work dirs (finished or interrupted) into a data dir's store.

import type { Command } from "commander";
import { defaultDataDir, openDataDir } from "../store/data.js";
import { importWorkDir, readWorkDir } from "../store/import.js";

export function registerImport(program: Command): void {
  program
    .command("import")
    .description("load the events, result and logs of culprit bisect work dirs into a store (again: adds only what is new)")
    .argument("<dir...>", "work dirs of culprit bisect")
    .option("--data <dir>", "the data dir (default $XDG_DATA_HOME/culprit, else ~/.local/share/culprit)")
    .option("--db <url>", "a postgres:// URL instead of the data dir's SQLite file")
    .action(async (dirs: string[], flags: { data?: string; db?: string }) => {
      const contents = dirs.map(readWorkDir);
      const data = await openDataDir(flags.data ?? defaultDataDir(), flags.db);
      try {
        for (const content of contents) {
          const r = await importWorkDir(data.store, data.blobs, content);
          const what = r.created ? `imported as job ${r.job}` : r.eventsAdded > 0 ? `job ${r.job} updated` : `job ${r.job} already stored, nothing new`;
          process.stdout.write(`${content.dir}: ${what} (${r.status}, ${r.eventsAdded} new events)\n`);
        }
      } finally {
        await data.store.close();
      }
    });
}
