/** Served at /static/app.css: styles live in a file, because CSP refuses inline ones. */
export const APP_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #5b6470; --accent: #0b5cad; --err: #a3131b; --line: #d8dde3; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --bg: #15181c; --muted: #a2aab4; --accent: #6cb0ff; --err: #ff8a8f; --line: #333a42; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
header nav { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
a { color: var(--accent); }
.brand { font-weight: 700; text-decoration: none; }
main { max-width: 60rem; margin: 0 auto; padding: 1.25rem; }
.stack { display: grid; gap: .75rem; max-width: 32rem; }
label { display: grid; gap: .25rem; font-weight: 600; }
input, select, textarea, button { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { background: var(--accent); color: #fff; border: 0; cursor: pointer; }
button.link { background: none; color: var(--accent); padding: 0; text-decoration: underline; }
button.danger { background: var(--err); }
form.inline { display: inline; }
fieldset { border: 1px solid var(--line); border-radius: 6px; display: grid; gap: .75rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.errors { color: var(--err); border: 1px solid var(--err); border-radius: 6px; padding: .5rem .75rem; }
.muted { color: var(--muted); }
.cards { list-style: none; padding: 0; display: grid; gap: .5rem; }
.cards li { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.check { display: flex; gap: .5rem; align-items: center; font-weight: 400; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; z-index: 10; }
.skip:focus { left: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
main.wide { max-width: 90rem; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; }
.admin-nav { display: flex; flex-wrap: wrap; gap: 1rem; padding-left: 1rem; border-left: 1px solid var(--line); }
button.secondary { background: none; color: var(--accent); border: 1px solid var(--accent); }
button.small, .small { font-size: .85rem; padding: .2rem .5rem; }
.inline-label { display: inline; font-weight: 400; }
.table-wrap { overflow-x: auto; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid currentColor; }
.badge.ok { color: #1a7f37; }
.badge.off { color: var(--muted); }
.badge.warn { color: #9a6700; }
.badge.bad { color: var(--err); }
.notice { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px; padding: .5rem .75rem; }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .5rem 0 1rem; }
.toolbar label { font-weight: 400; }
pre.config, textarea.config { white-space: pre; overflow-x: auto; font: 13px/1.4 ui-monospace, monospace; border: 1px solid var(--line); border-radius: 6px; padding: .6rem; max-width: 100%; }
.qr svg { width: 100%; max-width: 20rem; height: auto; background: #fff; padding: .5rem; border-radius: 6px; }
.grid2 { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); }
.chart svg { width: 100%; height: auto; max-height: 18rem; }
.chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart text { fill: var(--muted); font-size: 11px; }
[data-stale] { opacity: .6; }
@media (max-width: 40rem) { header.top { padding: .5rem .75rem; } main { padding: .75rem; } .admin-nav { border-left: 0; padding-left: 0; } th, td { padding: .3rem; } }
/* area: admin-users */
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 1rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
code.perm { margin-right: .4rem; }
.connections-profile { margin-top: 1.5rem; }
.connections-node h3 { font-size: 1rem; display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
.connections-count { font-weight: 400; }
@media (max-width: 40rem) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .4rem; } }
/* end area: admin-users */
/* area: admin-nodes */
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain li + li { margin-top: .15rem; }
dl.node-facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0 0 1rem; }
dl.node-facts dt { font-weight: 600; }
dl.node-facts dd { margin: 0; }
fieldset.node-profile { border-style: dashed; }
fieldset.node-profile legend code { font-weight: 400; }
#enroll-command { width: 100%; }
@media (max-width: 40rem) { dl.node-facts { grid-template-columns: 1fr; } dl.node-facts dd { margin-bottom: .4rem; } }
/* end area: admin-nodes */
/* area: admin-stats */
.series.s0 { --c: #0b5cad; } .series.s1 { --c: #c2410c; } .series.s2 { --c: #047857; } .series.s3 { --c: #a21caf; }
.series.s4 { --c: #b45309; } .series.s5 { --c: #0e7490; } .series.s6 { --c: #4d7c0f; } .series.s7 { --c: #6b7280; }
@media (prefers-color-scheme: dark) {
  .series.s0 { --c: #6cb0ff; } .series.s1 { --c: #fb923c; } .series.s2 { --c: #34d399; } .series.s3 { --c: #e879f9; }
  .series.s4 { --c: #fbbf24; } .series.s5 { --c: #22d3ee; } .series.s6 { --c: #a3e635; } .series.s7 { --c: #9ca3af; }
}
.chart circle.point { fill: var(--c); stroke: none; }
.chart path.series { fill: none; stroke: var(--c); stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; vector-effect: non-scaling-stroke; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .legend { list-style: none; padding: 0; margin: .25rem 0 .5rem; display: flex; flex-wrap: wrap; gap: .35rem 1.25rem; }
.chart .swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; margin-right: .35rem; vertical-align: -.1em; background: var(--c); }
.chart details, #users-per-day, #app-usage, #max-sessions, #csv-export { margin-bottom: 1.25rem; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.bars .bar-col { width: 50%; }
table.bars svg { display: block; width: 100%; height: .9rem; }
table.bars rect.bar { fill: var(--accent); }
code.addr { display: block; }
.audit-diff { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); }
.audit-diff h3 { margin: .25rem 0; }
pre.audit-json { white-space: pre-wrap; word-break: break-word; font: 12px/1.4 ui-monospace, monospace; border: 1px solid var(--line); border-radius: 6px; padding: .5rem; margin: 0; }
pre.audit-json mark.changed { display: inline-block; min-width: 100%; background: color-mix(in srgb, var(--accent) 22%, transparent); color: inherit; box-shadow: inset 3px 0 var(--accent); }
#audit-table td:last-child { min-width: 24rem; }
#audit-table time { white-space: nowrap; }
/* end area: admin-stats */
/* area: portal */
dl#account-facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; }
dl#account-facts dt { font-weight: 600; }
dl#account-facts dd { margin: 0; }
dl#account-facts ul { margin: 0; padding-left: 1.1rem; }
#wg-config { width: 100%; }
.hint { font-weight: 400; font-size: .875rem; }
#new-config select { font-weight: 400; }
#welcome { overflow-wrap: anywhere; }
@media (max-width: 40rem) { dl#account-facts { grid-template-columns: 1fr; } dl#account-facts dd { margin-bottom: .4rem; } }
/* end area: portal */
`;
