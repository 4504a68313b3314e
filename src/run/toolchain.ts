// Which compiler a build or the reproducer uses, as its own first line of --version says.
// Here, beside the process module, so builders (build/) and the initramfs (run/) share it
// without run/ importing build/.

import { execFile } from "node:child_process";

/** First line of `<compiler> --version`, e.g. "gcc (Debian 12.2.0-14) 12.2.0". */
export function compilerIdentity(compiler: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(compiler, ["--version"], { encoding: "utf8", timeout: 30_000 }, (err, stdout) => {
      const first = stdout.split("\n")[0]?.trim();
      resolve(!err && first ? first : compiler);
    });
  });
}
