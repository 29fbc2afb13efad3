/**
 * The coordinator's web dashboard: server-rendered pages (offer book,
 * contracts with their timeline, transactions and payout chart, strips as a
 * timeline of their periods, positions for sale and a contract's owners
 * (issue 14), oracle events
 * with their evidence) mounted on the coordinator's HTTP app by its composer
 * as `dashboardRouter(queries)` over `CoordinatorQueries` (src/api/coordinator.ts).
 * See router.ts for the routes.
 *
 * This entry does NOT start a server of its own, imports nothing of the
 * coordinator's service, and never writes: it reads the coordinator's public
 * queries (contracts, the node's tip) and, server side, its configured oracles.
 */
export { dashboardRouter, DASHBOARD_CSP } from './router.js';
export type { DashboardOptions } from './router.js';
export { autoXMax, chartCaption, niceStep, renderPayoutChart, stepAt, ticks, CHART_COLOURS } from './chart.js';
export type { PayoutChartOptions, PayoutStep } from './chart.js';
export { contractCurve, curveJson, rolesOf } from './curve.js';
export type { ContractCurve } from './curve.js';
export { escapeHtml, html, trustedHtml, SafeHtml } from './html.js';
export type { HtmlValue } from './html.js';
export { OracleProxy } from './oracle-proxy.js';
export type { AttestationView, Fetched, OracleEventView, OracleProxyOptions } from './oracle-proxy.js';
export { paths } from './pages.js';
export type { StripData } from './pages.js';
export { deliveryText, ownersSection, positionsPage, timeLeftText, TRANSFER_STATES } from './positions.js';
export type { OwnersData, PositionsPageData } from './positions.js';
export { outcomeText, renderStripTimeline, stripPage, summarizeStrip } from './strip.js';
export type { PeriodRow, StripSummaryData } from './strip.js';
