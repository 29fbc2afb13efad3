/**
 * The payout curve as an SVG chart, drawn on the server by a pure function:
 * both parties' payouts (sats) against the oracle outcome, as the step
 * functions the CETs actually pay (one step per outcome range of
 * protocol/numeric `outcomeRanges`, i.e. after rounding), with labelled axes,
 * a legend and, when given, the attested outcome marked with both payouts.
 *
 * Axis ranges: y from 0 to the total collateral; x from 0 to a little past
 * the start of the curve's last flat part (or the attested outcome), so the
 * interesting part fills the chart; the flat remainder up to the domain's
 * end is stated in a caption. Pixel positions use `number` (a few px of
 * rounding is invisible); every value printed comes from the exact bigints.
 *
 * This module does NOT compute payouts (curve.ts does, with protocol/numeric)
 * nor read anything: same input, same SVG text.
 */
import { escapeHtml } from './html.js';
import { groupDigits, tickLabel } from './format.js';

/** Outcomes `from..to` (inclusive) pay `offer` and `accept` sats. */
export interface PayoutStep {
  from: bigint;
  to: bigint;
  offer: bigint;
  accept: bigint;
}

export interface PayoutChartOptions {
  /** The outcome's unit (x axis), e.g. `bps` or `sats/PH/day`. */
  unit: string;
  /** Legend names of the two parties (default `offerer`, `accepter`). */
  offerLabel?: string;
  acceptLabel?: string;
  /** The attested outcome to mark, if any. */
  attested?: bigint | null;
  /** Right end of the x axis (outcome); default: chosen from the curve (module header). */
  xMax?: bigint;
  /** Outer size in px (default 760 × 380). */
  width?: number;
  height?: number;
  /** Accessible title (default "Payout curve"). */
  title?: string;
}

/** Colours of the two series and the marker (also used by the page legend). */
export const CHART_COLOURS = { offer: '#2563eb', accept: '#ea580c', attested: '#b91c1c', grid: '#e5e7eb', axis: '#374151', text: '#374151' } as const;

const MARGIN = { left: 84, right: 40, top: 40, bottom: 54 };
/** More visible steps than this are resampled to one per pixel column. */
const MAX_DRAWN_STEPS = 2000;

/** A "nice" tick spacing (1, 2, 2.5 or 5 × 10^k) giving about `count` ticks up to `max`. */
export function niceStep(max: number, count = 6): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return Math.max(1, nice * pow);
}

/** Ticks `0, step, 2·step, … ≤ max`. */
export function ticks(max: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; i * step <= max * (1 + 1e-9) && out.length < 100; i++) out.push(i * step);
  return out;
}

function checkSteps(steps: readonly PayoutStep[]): void {
  if (steps.length === 0) throw new RangeError('renderPayoutChart: no steps');
  let next = steps[0]!.from;
  for (const [i, s] of steps.entries()) {
    if (s.from !== next || s.to < s.from) throw new RangeError(`renderPayoutChart: step ${i} (${s.from}..${s.to}) does not follow the previous one`);
    if (s.offer < 0n || s.accept < 0n) throw new RangeError(`renderPayoutChart: step ${i} has a negative payout`);
    next = s.to + 1n;
  }
}

/** The step containing `outcome` (binary search), or undefined outside the steps. */
export function stepAt(steps: readonly PayoutStep[], outcome: bigint): PayoutStep | undefined {
  let lo = 0;
  let hi = steps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = steps[mid]!;
    if (outcome < s.from) hi = mid - 1;
    else if (outcome > s.to) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/**
 * The x axis end chosen for a curve: 25% past the start of the last step
 * (where the curve turns flat for good), at least past the attested outcome,
 * rounded up to a tick, never past the domain.
 */
export function autoXMax(steps: readonly PayoutStep[], attested?: bigint | null): bigint {
  const domainEnd = steps[steps.length - 1]!.to;
  const lastFrom = steps[steps.length - 1]!.from;
  let want = lastFrom <= steps[0]!.from ? domainEnd : lastFrom + lastFrom / 4n + 1n;
  if (attested !== undefined && attested !== null && attested >= want) want = attested + attested / 20n + 1n;
  if (want >= domainEnd) return domainEnd;
  const step = BigInt(Math.ceil(niceStep(Number(want), 12)));
  const rounded = ((want + step - 1n) / step) * step;
  return rounded > domainEnd ? domainEnd : rounded;
}

/** Steps clipped to `[first, xMax]`, merged into at most `columns` pieces when there are too many to draw. */
function visibleSteps(steps: readonly PayoutStep[], xMax: bigint, columns: number): PayoutStep[] {
  const clipped: PayoutStep[] = [];
  for (const s of steps) {
    if (s.from > xMax) break;
    clipped.push(s.to > xMax ? { ...s, to: xMax } : s);
  }
  if (clipped.length <= MAX_DRAWN_STEPS) return clipped;
  // One sample per pixel column: narrower steps cannot be seen anyway.
  const first = clipped[0]!.from;
  const span = xMax - first;
  const out: PayoutStep[] = [];
  for (let c = 0; c < columns; c++) {
    const from = first + (span * BigInt(c)) / BigInt(columns);
    const to = c === columns - 1 ? xMax : first + (span * BigInt(c + 1)) / BigInt(columns) - 1n;
    if (to < from) continue;
    const s = stepAt(clipped, from)!;
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.offer === s.offer && prev.accept === s.accept) prev.to = to;
    else out.push({ from, to, offer: s.offer, accept: s.accept });
  }
  return out;
}

const fmt = (n: number): string => (Math.round(n * 100) / 100).toString();

/** The SVG path of one series as a staircase, with repeated and collinear vertices dropped. */
function stairPath(steps: readonly PayoutStep[], value: (s: PayoutStep) => bigint, X: (o: bigint) => number, Y: (v: bigint) => number, xMax: bigint): { d: string; vertices: number } {
  const pts: [number, number][] = [];
  for (const s of steps) {
    const y = Y(value(s));
    const end = s.to + 1n > xMax ? xMax : s.to + 1n;
    pts.push([X(s.from), y], [X(end), y]);
  }
  const kept: [number, number][] = [];
  for (const p of pts.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100] as [number, number])) {
    const last = kept[kept.length - 1];
    if (last !== undefined && last[0] === p[0] && last[1] === p[1]) continue;
    const before = kept[kept.length - 2];
    if (last !== undefined && before !== undefined && ((before[0] === last[0] && last[0] === p[0]) || (before[1] === last[1] && last[1] === p[1]))) {
      kept[kept.length - 1] = p;
      continue;
    }
    kept.push(p);
  }
  const d = kept.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${fmt(x)} ${fmt(y)}`).join(' ');
  return { d, vertices: kept.length };
}

/**
 * Renders the chart (module header) as an `<svg>` element string. Every text
 * in it is escaped, so the result may be emitted as trusted markup.
 * @throws {RangeError} when `steps` is empty, not contiguous and increasing, or has a negative payout.
 */
export function renderPayoutChart(steps: readonly PayoutStep[], opts: PayoutChartOptions): string {
  checkSteps(steps);
  const width = opts.width ?? 760;
  const height = opts.height ?? 380;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const attested = opts.attested ?? null;
  const first = steps[0]!.from;
  const domainEnd = steps[steps.length - 1]!.to;
  let xMax = opts.xMax ?? autoXMax(steps, attested);
  if (xMax > domainEnd) xMax = domainEnd;
  if (xMax <= first) xMax = first + 1n;
  let total = 1n;
  for (const s of steps) if (s.offer + s.accept > total) total = s.offer + s.accept;

  const xSpan = Number(xMax - first);
  const yTop = Number(total) * 1.04;
  const X = (o: bigint): number => MARGIN.left + (Number(o - first) / xSpan) * plotW;
  const Y = (v: bigint): number => MARGIN.top + plotH - (Number(v) / yTop) * plotH;
  const Yn = (v: number): number => MARGIN.top + plotH - (v / yTop) * plotH;
  const Xn = (o: number): number => MARGIN.left + ((o - Number(first)) / xSpan) * plotW;

  const offerLabel = opts.offerLabel ?? 'offerer';
  const acceptLabel = opts.acceptLabel ?? 'accepter';
  const unit = opts.unit;
  const e = escapeHtml;
  const out: string[] = [];
  const title = opts.title ?? 'Payout curve';
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="payout-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="payout-chart-title payout-chart-desc" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`);
  out.push(`<title id="payout-chart-title">${e(title)}</title>`);
  const firstStep = steps[0]!;
  const lastStep = steps[steps.length - 1]!;
  out.push(`<desc id="payout-chart-desc">${e(`Payout in sats against the outcome in ${unit}. ${offerLabel}: ${firstStep.offer} sats at ${firstStep.from}, ${lastStep.offer} sats from ${lastStep.from}. ${acceptLabel}: ${firstStep.accept} sats at ${firstStep.from}, ${lastStep.accept} sats from ${lastStep.from}.${attested !== null ? ` Attested outcome ${attested}.` : ''}`)}</desc>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);

  // grid and ticks
  const yStep = niceStep(Number(total), 5);
  const yTicks = ticks(Number(total), yStep);
  const yCompact = Number(total) >= 100_000;
  const xStep = niceStep(xSpan, 7);
  const xTicks = ticks(xSpan, xStep).map((t) => t + Number(first));
  const xCompact = Number(xMax) >= 100_000;
  out.push('<g class="grid" stroke-width="1">');
  for (const t of yTicks) out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${fmt(Yn(t))}" y2="${fmt(Yn(t))}" stroke="${CHART_COLOURS.grid}"/>`);
  for (const t of xTicks) out.push(`<line x1="${fmt(Xn(t))}" x2="${fmt(Xn(t))}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="${CHART_COLOURS.grid}"/>`);
  out.push('</g>');
  out.push(`<g class="axis axis-y" fill="${CHART_COLOURS.text}" text-anchor="end">`);
  for (const t of yTicks) out.push(`<text x="${MARGIN.left - 8}" y="${fmt(Yn(t) + 4)}">${e(tickLabel(t, yCompact))}</text>`);
  out.push(`<text class="axis-label" transform="translate(18 ${fmt(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle" font-weight="600">Payout (sats)</text>`);
  out.push('</g>');
  out.push(`<g class="axis axis-x" fill="${CHART_COLOURS.text}" text-anchor="middle">`);
  for (const t of xTicks) out.push(`<text x="${fmt(Xn(t))}" y="${MARGIN.top + plotH + 18}">${e(tickLabel(t, xCompact))}</text>`);
  out.push(`<text class="axis-label" x="${fmt(MARGIN.left + plotW / 2)}" y="${height - 12}" font-weight="600">${e(`Outcome (${unit})`)}</text>`);
  out.push('</g>');
  out.push(`<path d="M${MARGIN.left} ${MARGIN.top} V${MARGIN.top + plotH} H${MARGIN.left + plotW}" fill="none" stroke="${CHART_COLOURS.axis}" stroke-width="1.2"/>`);

  // the two series
  const visible = visibleSteps(steps, xMax, Math.max(1, Math.floor(plotW)));
  const offerPath = stairPath(visible, (s) => s.offer, X, Y, xMax);
  const acceptPath = stairPath(visible, (s) => s.accept, X, Y, xMax);
  out.push(`<path class="curve curve-accept" data-vertices="${acceptPath.vertices}" d="${acceptPath.d}" fill="none" stroke="${CHART_COLOURS.accept}" stroke-width="2.5" stroke-linejoin="round"/>`);
  out.push(`<path class="curve curve-offer" data-vertices="${offerPath.vertices}" d="${offerPath.d}" fill="none" stroke="${CHART_COLOURS.offer}" stroke-width="2.5" stroke-linejoin="round"/>`);

  // legend
  const legendY = 20;
  out.push(`<g class="legend" fill="${CHART_COLOURS.text}">`);
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + 22}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${CHART_COLOURS.offer}" stroke-width="3"/>`);
  out.push(`<text x="${MARGIN.left + 28}" y="${legendY}">${e(`${offerLabel} payout`)}</text>`);
  const second = MARGIN.left + 40 + Math.min(260, 7 * (offerLabel.length + 8));
  out.push(`<line x1="${second}" x2="${second + 22}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${CHART_COLOURS.accept}" stroke-width="3"/>`);
  out.push(`<text x="${second + 28}" y="${legendY}">${e(`${acceptLabel} payout`)}</text>`);
  out.push('</g>');

  // the attested outcome
  if (attested !== null) {
    const at = stepAt(steps, attested);
    if (at !== undefined && attested <= xMax && attested >= first) {
      const x = fmt(X(attested));
      const rightHalf = X(attested) > MARGIN.left + plotW * 0.7;
      out.push(`<g class="attested" data-outcome="${attested}" data-offer="${at.offer}" data-accept="${at.accept}">`);
      out.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top - 4}" y2="${MARGIN.top + plotH}" stroke="${CHART_COLOURS.attested}" stroke-width="1.5" stroke-dasharray="5 4"/>`);
      // Label placement: the outcome label at the top of the line, each payout label above its dot
      // (below it when the dot is near the top, where the outcome label is); the offerer's on the
      // left of the line and the accepter's on the right unless that leaves the plot, and apart
      // vertically when both end up on one side. A white halo keeps them readable over the curves.
      const halo = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"';
      out.push(`<text x="${fmt(X(attested) + (rightHalf ? -6 : 6))}" y="${MARGIN.top + 10}" fill="${CHART_COLOURS.attested}" font-weight="600" text-anchor="${rightHalf ? 'end' : 'start'}" ${halo}>${e(`attested: ${groupDigits(attested)} ${unit}`)}</text>`);
      const xa = X(attested);
      const labels = ([['offer', at.offer, CHART_COLOURS.offer, true], ['accept', at.accept, CHART_COLOURS.accept, false]] as const).map(([side, v, colour, preferLeft]) => {
        const text = `${groupDigits(v)} sats`;
        const w = text.length * 7.5;
        const left = preferLeft ? xa - 8 - w >= MARGIN.left : xa + 8 + w > MARGIN.left + plotW;
        const y = Y(v);
        return { side, colour, text, left, dotY: y, y: y - 8 < MARGIN.top + 26 ? y + 18 : y - 8 };
      });
      const [a, b] = labels as [typeof labels[number], typeof labels[number]];
      if (a.left === b.left && Math.abs(a.y - b.y) < 15) b.y = a.y + 16 > MARGIN.top + plotH ? a.y - 16 : a.y + 16;
      for (const l of labels) {
        const w = l.text.length * 7.5;
        out.push(`<rect x="${fmt(l.left ? xa - 10 - w : xa + 6)}" y="${fmt(l.y - 12)}" width="${fmt(w + 4)}" height="16" rx="3" fill="#ffffff" fill-opacity="0.85"/>`);
        out.push(`<circle class="attested-${l.side}" cx="${x}" cy="${fmt(l.dotY)}" r="4.5" fill="${l.colour}" stroke="#ffffff" stroke-width="1.5"/>`);
        out.push(`<text x="${fmt(xa + (l.left ? -8 : 8))}" y="${fmt(l.y)}" fill="${l.colour}" font-weight="600" text-anchor="${l.left ? 'end' : 'start'}" ${halo}>${e(l.text)}</text>`);
      }
      out.push('</g>');
    }
  }
  out.push('</svg>');
  return out.join('');
}

/** A one-line statement of what the chart leaves out on the right, or null when it shows the whole domain. */
export function chartCaption(steps: readonly PayoutStep[], opts: Pick<PayoutChartOptions, 'unit' | 'attested' | 'xMax'>): string | null {
  const domainEnd = steps[steps.length - 1]?.to;
  if (domainEnd === undefined) return null;
  const xMax = opts.xMax ?? autoXMax(steps, opts.attested);
  if (xMax >= domainEnd) return null;
  const last = stepAt(steps, xMax)!;
  if (last !== steps[steps.length - 1]) return `The chart stops at ${groupDigits(xMax)} ${opts.unit}; the curve goes on to ${groupDigits(domainEnd)} ${opts.unit}.`;
  return `Beyond ${groupDigits(xMax)} ${opts.unit} the payouts stay ${groupDigits(last.offer)} / ${groupDigits(last.accept)} sats up to the largest outcome, ${groupDigits(domainEnd)} ${opts.unit}.`;
}
