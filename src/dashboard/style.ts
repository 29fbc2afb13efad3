/**
 * The dashboard's one stylesheet, served at `/dashboard/assets/style.css`
 * (a file of its own rather than inline, so the pages' Content-Security-
 * Policy can forbid inline styles and scripts altogether).
 *
 * This module does NOT hold markup; pages.ts uses these class names.
 */
export const DASHBOARD_CSS = `
:root {
  --fg: #111827; --muted: #6b7280; --border: #e5e7eb; --bg: #f5f7fa; --card: #ffffff;
  --accent: #2563eb; --offer: #2563eb; --accept: #ea580c;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { background: #0f172a; color: #fff; }
header.top .inner { max-width: 1180px; margin: 0 auto; padding: 12px 24px; display: flex; align-items: center; gap: 28px; flex-wrap: wrap; }
.brand { font-weight: 700; font-size: 18px; color: #fff; letter-spacing: .01em; }
.brand span { color: #f59e0b; }
.brand:hover { text-decoration: none; }
nav.main a { color: #cbd5e1; margin-right: 18px; }
nav.main a.active, nav.main a:hover { color: #fff; text-decoration: none; }
nav.main a.active { border-bottom: 2px solid #f59e0b; padding-bottom: 2px; }
header.top .meta { margin-left: auto; color: #94a3b8; font-size: 12px; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h2 { font-size: 16px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 8px; }
p.sub { color: var(--muted); margin: 0 0 18px; }
section.card { background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 18px 20px; margin-bottom: 20px; box-shadow: 0 1px 2px rgba(15, 23, 42, .04); }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; border-bottom: 1px solid var(--border); padding: 8px 8px; white-space: nowrap; }
td { padding: 8px 8px; border-bottom: 1px solid #f1f5f9; vertical-align: top; }
table.offers td, table.contracts td, table.events td { white-space: nowrap; font-size: 13px; }
tbody tr:hover td { background: #f8fafc; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 2px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #e5e7eb; color: #374151; white-space: nowrap; }
.badge.open { background: #dbeafe; color: #1e40af; }
.badge.progress { background: #fef3c7; color: #92400e; }
.badge.done { background: #dcfce7; color: #166534; }
.badge.ended { background: #f3f4f6; color: #6b7280; }
.badge.failed { background: #fee2e2; color: #991b1b; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; min-width: 0; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
.grid2 > section.card { margin-bottom: 0; }
.grid2 { margin-bottom: 20px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
ul.lines { margin: 0 0 12px; padding-left: 18px; }
ul.lines li { margin-bottom: 4px; }
ol.timeline { list-style: none; margin: 0; padding: 0 0 0 16px; border-left: 2px solid var(--border); }
ol.timeline li { position: relative; padding: 0 0 14px 14px; }
ol.timeline li::before { content: ""; position: absolute; left: -23px; top: 5px; width: 12px; height: 12px; border-radius: 50%; background: var(--accent); border: 2px solid #fff; box-shadow: 0 0 0 1px var(--accent); }
ol.timeline li:last-child { padding-bottom: 0; }
ol.timeline .when { color: var(--muted); font-size: 12px; display: block; }
ol.timeline .what { font-size: 13px; overflow-wrap: anywhere; }
.stepper { display: flex; flex-wrap: wrap; gap: 4px; margin: 6px 0 20px; padding: 0; list-style: none; }
.stepper li { padding: 3px 10px; border-radius: 4px; background: #eef2f7; color: #94a3b8; font-size: 12px; }
.stepper li.done { background: #dcfce7; color: #166534; }
.stepper li.current { background: var(--accent); color: #fff; font-weight: 600; }
.chart { overflow-x: auto; }
.chart svg { width: 100%; max-width: 980px; height: auto; display: block; }
table.spaced { margin-bottom: 14px; }
.note { color: var(--muted); font-size: 13px; }
.error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; border-radius: 8px; padding: 10px 14px; margin: 8px 0; }
.ok { color: #166534; font-weight: 600; }
.bad { color: #991b1b; font-weight: 600; }
.swatch { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin-right: 6px; }
.swatch.offer { background: var(--offer); }
.swatch.accept { background: var(--accept); }
.filters { margin: 0 0 14px; display: flex; flex-wrap: wrap; gap: 6px; }
.filters a { padding: 2px 10px; border: 1px solid var(--border); border-radius: 999px; color: #374151; background: #fff; font-size: 12px; }
.filters a.active { background: var(--accent); border-color: var(--accent); color: #fff; }
.pager { margin-top: 12px; }
.nowrap { white-space: nowrap; }
td.mono.nowrap, .mono.nowrap { overflow-wrap: normal; }
details.blocks { margin-top: 14px; }
details.blocks summary { cursor: pointer; font-weight: 600; margin-bottom: 8px; }
.empty { color: var(--muted); padding: 12px 0; }
table.oracles tr.dissent td { background: #fef2f2; }
table.strip-periods th[scope="row"] { color: var(--fg); font-size: 13px; text-transform: none; letter-spacing: 0; white-space: nowrap; }
table.strip-periods td { font-size: 13px; }
table.strip-periods tr:target td, table.strip-periods tr:target th { background: #eff6ff; }
.chart svg.strip-timeline { max-width: 100%; }
svg.strip-timeline a:focus rect { stroke-width: 3; }
p.strip-of { margin: -10px 0 18px; }
a.strip-place { font-size: 12px; }
table.positions td, table.transfers td { font-size: 13px; }
ol.owners { margin: 12px 0 0; padding-left: 20px; }
ol.owners li { margin-bottom: 8px; }
ol.owners li.current { font-weight: 600; }
dl.transfer-links { margin-bottom: 8px; }
footer { max-width: 1180px; margin: 0 auto; padding: 0 24px 32px; color: var(--muted); font-size: 12px; }
`;
