#!/usr/bin/env node
// The culprit command line: one file per command under cli/, each registering itself here.

import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { UserError } from "../core/errors.js";
import { commands } from "./commands.js";

/** The version in package.json, two folders above dist/src/cli. */
function packageVersion(): string {
  const text = readFileSync(new URL("../../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("culprit")
    .description("find the commit that introduced (or fixed) a crash")
    .version(packageVersion(), "-V, --version", "print culprit's version")
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UserError) {
      process.stderr.write(`culprit: ${err.message}${err.hint ? ` (${err.hint})` : ""}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv);
