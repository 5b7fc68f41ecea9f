/** Numbers as C's printf "%.*g" prints them, which is how OVS prints reals in every text format. */

/** Formats a double as C's "%.<precision>g" does ("%.15g" by default). */
export function formatG(x: number, precision = 15): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const p = precision === 0 ? 1 : precision;
  const exp = Number(x.toExponential(p - 1).split("e")[1]);
  if (exp < -4 || exp >= p) {
    let [mant, e] = x.toExponential(p - 1).split("e") as [string, string];
    if (mant.includes(".")) mant = mant.replace(/0+$/, "").replace(/\.$/, "");
    const sign = e.startsWith("-") ? "-" : "+";
    return `${mant}e${sign}${e.replace(/^[-+]/, "").padStart(2, "0")}`;
  }
  const s = x.toFixed(Math.max(0, p - 1 - exp));
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}
