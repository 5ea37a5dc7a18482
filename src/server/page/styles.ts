// CSS of the search page (inlined into the HTML; the page loads nothing else).
export const SEARCH_PAGE_CSS = `
:root { --fg: #111; --muted: #5b6270; --line: #dde1e7; --accent: #0b5cad; --bad: #b00020; --card: #fff; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
#collection-info { color: var(--muted); }
.token { margin-left: auto; }
.token input { width: 200px; }
.token input.needed { border-color: var(--bad); outline: 2px solid #f3c1c8; }
main { padding: 16px 24px; max-width: 1280px; margin: 0 auto; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 12px; display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px 24px; }
.panel > .row { grid-column: 1 / -1; }
form { display: flex; flex-direction: column; gap: 6px; }
form h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0; }
.row { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
input[type=text], input[type=number], select { padding: 6px 8px; border: 1px solid #c5cbd3; border-radius: 6px; font: inherit; background: #fff; }
input[type=text] { flex: 1; min-width: 160px; }
input[type=number] { width: 90px; }
button { padding: 6px 14px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px; font: inherit; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button:disabled { opacity: .55; cursor: progress; }
.hint { color: var(--muted); font-size: 12px; }
#error { display: none; border: 1px solid var(--bad); background: #fff4f5; color: var(--bad); padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; white-space: pre-wrap; }
#error.visible { display: block; }
#status { color: var(--muted); margin: 4px 0 10px; min-height: 1.4em; }
#results { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.result { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; display: flex; flex-direction: column; gap: 6px; overflow: hidden; }
.result-thumb { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; border-radius: 4px; background: #eef1f5; }
.result-head { display: flex; justify-content: space-between; gap: 8px; align-items: baseline; }
.result-id { font-weight: 600; word-break: break-all; }
.result-distance { font-variant-numeric: tabular-nums; color: var(--accent); white-space: nowrap; }
.result-labels { display: flex; flex-wrap: wrap; gap: 4px; }
.label { background: #e8f0fb; color: #0b3d73; border-radius: 10px; padding: 1px 8px; font-size: 12px; }
.result-meta { color: var(--muted); font-size: 12px; max-height: 6.2em; overflow: hidden; word-break: break-word; }
.result-query { align-self: flex-start; padding: 3px 8px; font-size: 12px; }
.empty { color: var(--muted); grid-column: 1 / -1; }
`;
