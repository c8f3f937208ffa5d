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
`;
