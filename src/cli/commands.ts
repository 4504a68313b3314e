// Every command culprit has. Each entry adds one subcommand to the program.
import type { Command } from "commander";
import { registerBisect } from "./bisect.js";
import { registerClient } from "./client.js";
import { registerDemo } from "./demo.js";
import { registerImport } from "./import.js";
import { registerParse } from "./parse.js";
import { registerServe } from "./serve.js";
import { registerSim } from "./sim.js";
import { registerWorker } from "./worker.js";

export const commands: ((program: Command) => void)[] = [registerBisect, registerClient, registerDemo, registerImport, registerParse, registerServe, registerSim, registerWorker];
