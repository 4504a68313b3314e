// Who should hear about a culprit, from the commit itself: its author and everyone who signed,
// reviewed, acked or tested it (also combined trailers such as "Reviewed-and-tested-by").

import { emailOf as addressOf } from "./maintainers.js";

const PEOPLE_TRAILER = /^(?:(?:signed-off|reviewed|acked|tested)(?:-and-(?:signed-off|reviewed|acked|tested))*)-by$/i;

/** The lower-cased address in "Name <addr>" or a bare "addr". */
export function emailOf(value: string): string | undefined {
  return addressOf(value)?.toLowerCase();
}

export function commitRecipients(authorEmail: string, trailers: readonly { key: string; value: string }[]): string[] {
  const to = new Set<string>();
  const author = emailOf(authorEmail);
  if (author) to.add(author);
  for (const { key, value } of trailers) {
    if (!PEOPLE_TRAILER.test(key)) continue;
    const email = emailOf(value);
    if (email) to.add(email);
  }
  return [...to].sort();
}
