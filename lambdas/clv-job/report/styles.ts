/** The report's one stylesheet, inlined in the page: system fonts, no images, prints on A4. */
export const REPORT_CSS = `
:root {
  --ink: #0f172a; --body: #334155; --muted: #64748b; --line: #e2e8f0; --panel: #ffffff; --page: #f4f6f9;
  --navy: #1f4e79; --navy-soft: #e8f0f9; --coral: #b4432f; --coral-soft: #fdf0ec; --amber-soft: #fdf6e3;
  --green: #2f7a52; --green-soft: #eaf6ef;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--page); color: var(--body);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 28px; }
.masthead { background: linear-gradient(120deg, #16385a 0%, #1f4e79 60%, #2b6296 100%); color: #fff; padding: 28px 0 0; }
.masthead .eyebrow { text-transform: uppercase; letter-spacing: .12em; font-size: 12px; opacity: .8; font-weight: 600; }
.masthead h1 { margin: 4px 0 6px; font-size: 30px; line-height: 1.2; font-weight: 700; color: #fff; }
.masthead .meta { margin: 0; opacity: .88; font-size: 13px; }
.masthead nav { display: flex; flex-wrap: wrap; gap: 2px 18px; margin-top: 18px; padding: 10px 0 12px; border-top: 1px solid rgba(255,255,255,.18); font-size: 13px; }
.masthead nav a { color: #dbe8f6; text-decoration: none; }
.masthead nav a:hover { color: #fff; text-decoration: underline; }
main.wrap { padding-top: 22px; padding-bottom: 36px; }
.section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 22px 24px 20px; margin: 0 0 18px; }
.section > h2 { margin: 0 0 4px; font-size: 19px; color: var(--ink); font-weight: 650; }
.caption { margin: 0 0 14px; color: var(--body); max-width: 900px; }
.analyst { color: var(--muted); font-size: 12.5px; margin: 10px 0 0; max-width: 900px; }
.note { margin: 10px 0; padding: 10px 14px; border-radius: 8px; background: #f8fafc; border: 1px dashed #cbd5e1; color: var(--muted); }
.grid-2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 22px; align-items: start; }
.grid-2.wide-left { grid-template-columns: minmax(0, 1.25fr) minmax(0, 1fr); }
.grid-2.chart-narrow { grid-template-columns: minmax(0, 0.85fr) minmax(0, 1.5fr); }
@media (max-width: 900px) { .grid-2, .grid-2.wide-left, .grid-2.chart-narrow { grid-template-columns: minmax(0, 1fr); } }
figure.chart { margin: 0; }
.grid-2 > figure.chart { position: sticky; top: 12px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figure.chart figcaption { font-size: 12px; color: var(--muted); margin-top: 6px; }
h3 { font-size: 14px; color: var(--ink); margin: 0 0 8px; font-weight: 650; }

.kpis { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; }
@media (max-width: 1000px) { .kpis { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px 12px; border-top: 3px solid var(--navy); }
.kpi .label { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
.kpi .value { display: block; font-size: 25px; font-weight: 700; color: var(--ink); margin: 4px 0 2px; font-variant-numeric: tabular-nums; }
.kpi .sub { font-size: 12px; color: var(--muted); }
.overview { margin-bottom: 18px; }

.alerts { border-left: 4px solid var(--navy); }
.alerts.has-warnings { border-left-color: var(--coral); }
.warnings { list-style: none; margin: 8px 0 0; padding: 0; }
.warnings li { background: var(--coral-soft); border: 1px solid #f3c9bd; color: #7a2a1c; border-radius: 8px; padding: 8px 12px 8px 36px; margin: 6px 0; position: relative; }
.warnings li::before { content: "!"; position: absolute; left: 12px; top: 8px; width: 16px; height: 16px; border-radius: 50%; background: var(--coral); color: #fff; font-weight: 700; font-size: 11px; line-height: 16px; text-align: center; }
.warnings li.run-warning { background: var(--amber-soft); border-color: #f0dca4; color: #6b4e00; }
.warnings li.run-warning::before { background: #c08a00; }
.ok { background: var(--green-soft); border: 1px solid #c4e5d2; color: #1e5a3a; border-radius: 8px; padding: 8px 12px; margin: 8px 0 0; }
.deltas { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 4px; }
.delta { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 190px; }
.delta .label { font-size: 12px; color: var(--muted); }
.delta .value { font-size: 16px; font-weight: 650; color: var(--ink); font-variant-numeric: tabular-nums; }
.up { color: var(--green); } .down { color: var(--coral); }

table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; background: #f8fafc; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr:last-child td { border-bottom: none; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
.segment-name { font-weight: 650; color: var(--ink); white-space: nowrap; margin-bottom: 2px; }
.actions { margin: 0; padding-left: 16px; color: var(--muted); font-size: 12.5px; }
.subsection { margin-top: 20px; padding-top: 16px; border-top: 1px solid var(--line); }
.actions li { margin: 1px 0; }
.tag { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 10px; background: var(--navy-soft); color: var(--navy); font-weight: 600; white-space: nowrap; }
.tag.bad { background: var(--coral-soft); color: var(--coral); }
.tag.good { background: var(--green-soft); color: var(--green); }
.quad { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.quad .cell { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.quad .cell h3 { margin-bottom: 2px; }
.quad .cell .figures { font-size: 12.5px; color: var(--muted); margin-bottom: 4px; }
.stats { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; margin-bottom: 12px; }
.stat { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.stat .label { font-size: 12px; color: var(--muted); }
.stat .value { font-size: 22px; font-weight: 700; color: var(--ink); font-variant-numeric: tabular-nums; }
footer { color: var(--muted); font-size: 12px; padding: 8px 0 30px; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 0; }
footer dt { font-weight: 600; }
footer dd { margin: 0; }
@media print {
  body { background: #fff; }
  .masthead { background: #1f4e79 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .section, .kpi { break-inside: avoid; }
  .masthead nav { display: none; }
}
`;
