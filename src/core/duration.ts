// Durations printed the way Go prints them ("4h25m15.340713187s"), as syzbot's logs do.

export function goDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return "0s";
  const sign = ns < 0n ? "-" : "";
  if (ns < 0n) ns = -ns;
  if (ns < 1_000_000_000n) {
    // Below a second Go switches to the largest unit that keeps an integer part.
    const [unit, size] = ns < 1_000n ? ["ns", 1n] : ns < 1_000_000n ? ["µs", 1_000n] : ["ms", 1_000_000n];
    return sign + withFraction(ns, size) + unit;
  }
  const hours = ns / 3_600_000_000_000n;
  const minutes = (ns / 60_000_000_000n) % 60n;
  const seconds = withFraction(ns % 60_000_000_000n, 1_000_000_000n);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function withFraction(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const rest = value % unit;
  if (rest === 0n) return whole.toString();
  const digits = unit.toString().length - 1;
  return `${whole}.${rest.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}
