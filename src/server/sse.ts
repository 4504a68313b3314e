// Server-Sent Events as a client reads them: messages split off a stream of text as it arrives.

export interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

/** Feeds text in any chunks; returns the messages each chunk completes (comments are dropped). */
export class SseReader {
  private buffer = "";

  push(text: string): SseMessage[] {
    this.buffer += text.replace(/\r\n?/g, "\n");
    const messages: SseMessage[] = [];
    for (let end = this.buffer.indexOf("\n\n"); end >= 0; end = this.buffer.indexOf("\n\n")) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const message = parseBlock(block);
      if (message) messages.push(message);
    }
    return messages;
  }
}

function parseBlock(block: string): SseMessage | undefined {
  const message: SseMessage = { event: "message", data: "" };
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") message.event = value;
    else if (field === "id") message.id = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return undefined;
  message.data = data.join("\n");
  return message;
}

/** Every message of a whole stream's text. */
export function sseMessages(text: string): SseMessage[] {
  return new SseReader().push(text.endsWith("\n\n") ? text : `${text}\n\n`);
}
