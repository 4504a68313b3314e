// Who should hear about a culprit, from the commit itself: its author and everyone who signed,
// reviewed, acked or tested it (also combined trailers such as "Reviewed-and-tested-by").

const PEOPLE_TRAILER = /^(?:(?:signed-off|reviewed|acked|tested)(?:-and-(?:signed-off|reviewed|acked|tested))*)-by$/i;

/** The email address in "Name <addr>" or a bare "addr"; undefined when there is none. */
export function emailOf(value: string): string | undefined {
  const bracketed = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  if (bracketed) return (bracketed[1] as string).toLowerCase();
  const bare = /([^\s<>"]+@[^\s<>"]+)/.exec(value);
  return bare ? (bare[1] as string).toLowerCase() : undefined;
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
