// An SMTP server for tests, run as its own process: `node smtp-sink.js DIR [REFUSE]` listens on a
// loopback port (printed as "listening PORT"), refuses the first REFUSE messages with a temporary
// error, and saves each message it accepts as DIR/N.eml with its envelope in DIR/N.json.

import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";

const [dir, refuseArg] = process.argv.slice(2);
if (!dir) throw new Error("usage: smtp-sink DIR [REFUSE]");
let refuse = Number(refuseArg ?? 0);
let saved = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["AUTH", "STARTTLS"],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      if (refuse > 0) {
        refuse -= 1;
        const err = Object.assign(new Error("try again later"), { responseCode: 451 });
        callback(err);
        return;
      }
      saved += 1;
      const envelope = { from: session.envelope.mailFrom === false ? null : session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address) };
      writeFileSync(join(dir, `${saved}.json`), JSON.stringify(envelope));
      writeFileSync(join(dir, `${saved}.eml`), Buffer.concat(chunks));
      callback();
    });
  },
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.server.address() as AddressInfo).port}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
