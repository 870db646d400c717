import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import type { CurrencySummary } from '../../core/dashboard_home.js';
import { formatAmount } from '../pages/checkout.js';
import type { DashboardText } from './text.js';

const WIDTH = 720;
const HEIGHT = 180;
const AXIS = 20;
const VOLUME_COLOR = '#1677ff';
const REFUND_COLOR = '#f53f3f';

/**
 * The 30 days of one currency as an SVG bar chart, rendered on the server (no script): a volume
 * bar and a refund bar per day, each with a <title> so screen readers and hover show the figure.
 */
export function dailyChart(summary: CurrencySummary, t: DashboardText): SafeHtml {
  const max = Math.max(1, ...summary.daily.map((day) => Math.max(day.volume, day.refunded)));
  const slot = WIDTH / summary.daily.length;
  const barWidth = Math.max(2, slot / 2 - 1);
  const plot = HEIGHT - AXIS;
  const bars = summary.daily.map((day, index) => {
    const date = new Date(day.day).toISOString().slice(0, 10);
    const x = index * slot;
    const volumeHeight = (day.volume / max) * plot;
    const refundHeight = (day.refunded / max) * plot;
    const last = index === summary.daily.length - 1;
    // The last day's label is right-aligned so it stays inside the picture.
    const label = index % 5 === 4 || last
      ? html`<text x="${(last ? WIDTH : x + slot / 2).toFixed(1)}" y="${HEIGHT - 5}" font-size="10" text-anchor="${last ? 'end' : 'middle'}" fill="#646a73">${date.slice(5)}</text>`
      : '';
    return html`<g data-day="${date}" data-volume="${day.volume}" data-refunded="${day.refunded}"><rect x="${(x + 1).toFixed(1)}" y="${(plot - volumeHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${volumeHeight.toFixed(1)}" fill="${VOLUME_COLOR}"><title>${date} ${t.volumeLegend}: ${formatAmount(summary.currency, day.volume)}</title></rect><rect x="${(x + 1 + barWidth).toFixed(1)}" y="${(plot - refundHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${refundHeight.toFixed(1)}" fill="${REFUND_COLOR}"><title>${date} ${t.refundLegend}: ${formatAmount(summary.currency, day.refunded)}</title></rect>${label}</g>`;
  });
  return html`<svg class="chart" data-testid="chart-${summary.currency}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${t.chartLabel(summary.currency)}" xmlns="http://www.w3.org/2000/svg">
<line x1="0" y1="${plot}" x2="${WIDTH}" y2="${plot}" stroke="#e5e6eb"/>${bars}</svg>
<div class="legend"><span><span class="swatch" style="background:${VOLUME_COLOR}"></span>${t.volumeLegend}</span><span><span class="swatch" style="background:${REFUND_COLOR}"></span>${t.refundLegend}</span><span>${t.daysUtc}</span></div>`;
}
