// Every command culprit has. Each entry adds one subcommand to the program.
import type { Command } from "commander";

export const commands: ((program: Command) => void)[] = [];
