/**
 * The chi-square distribution's CDF and quantile, in float64: the robust RX fit's cut-offs and
 * consistency factors (squared Mahalanobis distances of Gaussian pixels are χ² with as many
 * degrees of freedom as the covariance has rank).
 *
 * The CDF is the regularised lower incomplete gamma function `P(k/2, x/2)`, by its series below
 * `a + 1` and by Lentz's continued fraction above (Numerical Recipes §6.2): about 1e-14 relative.
 * The quantile inverts it by bisection to the same accuracy.
 *
 * @module
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~1e-15 relative). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = c[0];
  for (let i = 1; i < 9; i++) s += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** The regularised lower incomplete gamma function P(a, x), a > 0, x ≥ 0. */
function lowerGamma(a: number, x: number): number {
  if (x <= 0) return 0;
  const front = Math.exp(a * Math.log(x) - x - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.min(1, front * sum);
  }
  // Q(a, x) by the continued fraction, then P = 1 − Q.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - front * h);
}

/**
 * P(X ≤ x) for X ~ χ²(df).
 *
 * @param x The point.
 * @param df Degrees of freedom, > 0.
 * @returns The probability in [0, 1].
 */
export function chi2Cdf(x: number, df: number): number {
  return lowerGamma(df / 2, x / 2);
}

/**
 * The `p`-quantile of χ²(df): the x with `chi2Cdf(x, df) = p`.
 *
 * @param p A probability in (0, 1).
 * @param df Degrees of freedom, > 0.
 * @returns The quantile.
 */
export function chi2Quantile(p: number, df: number): number {
  let lo = 0;
  let hi = Math.max(1, df);
  while (chi2Cdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (chi2Cdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
