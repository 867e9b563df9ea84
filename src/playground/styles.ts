// The playground's stylesheet (served as /api/playground/playground.css; the CSP allows no inline style).
// System fonts, one column, readable from a 320 px phone up; dark mode follows the system setting.

export const playgroundStyles = `
:root {
  color-scheme: light dark;
  --bg: #fbfbfd; --fg: #1b1b1f; --muted: #5b5b66; --line: #d6d6de; --panel: #ffffff;
  --accent: #0b5cad; --accent-fg: #ffffff; --danger: #b3261e; --error-bg: #fdecea; --tool: #f2efe6; --user: #e8f0fb;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #141417; --fg: #ececf1; --muted: #a3a3ad; --line: #3a3a42; --panel: #1d1d22;
    --accent: #6aa7ff; --accent-fg: #0b0b0f; --danger: #ff8a80; --error-bg: #3b1a18; --tool: #2a281f; --user: #1c2a3d; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header, nav, main { max-width: 56rem; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; padding-top: .75rem; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.15rem; }
nav { display: flex; flex-wrap: wrap; gap: .25rem; border-bottom: 1px solid var(--line); margin-top: .5rem; }
nav [role="tab"] { background: none; color: var(--fg); border: 0; border-bottom: 3px solid transparent; border-radius: 0; padding: .5rem .75rem; }
nav [role="tab"][aria-selected="true"] { border-bottom-color: var(--accent); font-weight: 600; }
main { padding-bottom: 3rem; }
section { padding-top: 1rem; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
label.check { display: inline-flex; align-items: center; gap: .35rem; font-weight: normal; margin: .2rem 1rem .2rem 0; }
.hint, .meta { color: var(--muted); font-weight: normal; font-size: .9rem; }
input, textarea, select, button { font: inherit; }
input:not([type="checkbox"]), textarea, select { width: 100%; padding: .45rem .55rem; border: 1px solid var(--line); border-radius: .4rem; background: var(--panel); color: var(--fg); }
input[type="file"] { padding: .3rem; }
textarea { resize: vertical; }
fieldset { border: 1px solid var(--line); border-radius: .4rem; margin: .6rem 0 0; padding: .3rem .75rem .5rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.row { display: flex; flex-wrap: wrap; gap: .5rem; margin: .6rem 0; }
button { cursor: pointer; padding: .45rem .9rem; border-radius: .4rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
button:disabled { opacity: .55; cursor: progress; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.error { background: var(--error-bg); color: var(--danger); border: 1px solid var(--danger); border-radius: .4rem; padding: .5rem .75rem; margin: .6rem 0; overflow-wrap: anywhere; }
.answer { overflow-wrap: anywhere; }
.answer p { margin: .35rem 0; }
.answer pre, pre { background: var(--panel); border: 1px solid var(--line); border-radius: .4rem; padding: .5rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85rem; }
code { font-size: .9em; }
.transcript { list-style: none; padding: 0; margin: .75rem 0; display: flex; flex-direction: column; gap: .5rem; }
.transcript > li { border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .75rem; background: var(--panel); }
.transcript > li.user { background: var(--user); margin-left: 15%; }
.transcript > li.tool { background: var(--tool); font-size: .92rem; }
.transcript > li.system { font-size: .9rem; color: var(--muted); }
.role { font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 .2rem; }
a.citation { display: inline-block; padding: 0 .3rem; border-radius: .3rem; border: 1px solid var(--line); font-size: .85em; text-decoration: none; color: var(--accent); }
.citations, .followups { display: flex; flex-wrap: wrap; gap: .35rem; margin: .4rem 0; padding: 0; list-style: none; align-items: center; }
.followups button { background: transparent; color: var(--accent); font-size: .9rem; padding: .25rem .6rem; }
details > summary { cursor: pointer; color: var(--accent); margin: .3rem 0; }
.thought { border-top: 1px solid var(--line); padding: .3rem 0; }
.message-text { margin: .2rem 0 .5rem; }
.message-text .role { margin: 0; }
.thought h4 { margin: .2rem 0; font-size: .95rem; }
.props { display: flex; flex-wrap: wrap; gap: .25rem .8rem; font-size: .85rem; color: var(--muted); margin: .2rem 0; }
.tool-form { margin-top: .4rem; }
.progress-list { list-style: none; padding: 0; }
.progress-list li { display: grid; grid-template-columns: minmax(0, 1fr) 8rem; gap: .2rem .75rem; align-items: center; margin: .3rem 0; }
.progress-list .meta { grid-column: 1 / -1; }
progress { width: 100%; }
.table-wrap { overflow-x: auto; position: relative; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
td:first-child { white-space: normal; overflow-wrap: anywhere; min-width: 9rem; }
img#rag-image-preview, .transcript img { max-width: 10rem; max-height: 8rem; border-radius: .4rem; border: 1px solid var(--line); display: block; margin: .4rem 0; }
dialog { border: 1px solid var(--line); border-radius: .6rem; background: var(--panel); color: var(--fg); max-width: min(28rem, 92vw); }
dialog::backdrop { background: rgb(0 0 0 / .4); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
@media (max-width: 30rem) {
  header, nav, main { padding: 0 .6rem; }
  .transcript > li.user { margin-left: 0; }
  nav [role="tab"] { padding: .45rem .5rem; }
  th.wide, td.wide { display: none; }
}
`;
