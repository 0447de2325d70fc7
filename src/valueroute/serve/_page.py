"""The supervisor page: plain HTML and a small script over the event stream, no build step.

The page itself holds no data, so it is served to anyone; everything it
shows comes from the API with the token the supervisor gives it (in the
address's fragment, ``/#token=...``, which browsers never send to the
server, or typed into the page). It reads the event stream with ``fetch``
(``EventSource`` cannot send an ``Authorization`` header) and re-reads the
task list, named queues, task types and agents after each burst of events.
"""

from __future__ import annotations

__all__ = ["SUPERVISOR_PAGE"]

SUPERVISOR_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>valueroute supervisor</title>
<style>
 body { font: 14px system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
 h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.5rem; }
 table { border-collapse: collapse; min-width: 30rem; }
 th, td { text-align: left; padding: .2rem .7rem; border-bottom: 1px solid #ddd; }
 td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
 #status { color: #666; } #status.down { color: #b00; }
 form { margin: .5rem 0; } input { width: 8rem; }
</style>
</head>
<body>
<h1>valueroute supervisor</h1>
<p id="status">connecting...</p>
<form id="login" hidden><label>Token <input id="token" type="password"></label>
 <button>Show</button></form>
<form id="filters">
 <label>Type <input id="f-type"></label>
 <label>Channel <input id="f-channel"></label>
 <label>Show <input id="f-n" type="number" value="50" min="1" max="1000"></label>
</form>
<h2>Global task list (score order)</h2>
<table><thead><tr><th class="n">#</th><th>Task</th><th>Type</th><th>Channel</th>
 <th class="n">Priority</th><th class="n">Score</th><th class="n">Age (s)</th></tr></thead>
 <tbody id="tasks"></tbody></table>
<h2>Queues</h2>
<table><thead><tr><th>Queue</th><th class="n">Waiting</th><th class="n">Oldest wait (s)</th>
 <th class="n">Expected wait (s)</th><th class="n">Agents serving</th>
 <th class="n">Available</th></tr></thead><tbody id="queues"></tbody></table>
<h2>Task types</h2>
<table><thead><tr><th>Type</th><th class="n">Waiting</th><th class="n">Oldest (s)</th>
 <th class="n">Submitted</th><th class="n">Completed</th><th class="n">SLA breached</th>
 <th class="n">Within SLA</th></tr></thead><tbody id="types"></tbody></table>
<h2>Agents</h2>
<table><thead><tr><th>Agent</th><th>State</th><th>Load</th><th class="n">Occupancy</th>
 <th class="n">Handled</th></tr></thead><tbody id="agents"></tbody></table>
<script>
"use strict";
const state = { token: null, last: null, pending: null, version: 0 };
const $ = (id) => document.getElementById(id);

function tokenFromPage() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  return fragment.get("token") || sessionStorage.getItem("valueroute-token");
}

function cell(text, numeric) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "n";
  return td;
}

function row(cells, id) {
  const tr = document.createElement("tr");
  if (id !== undefined) tr.dataset.id = id;
  for (const [text, numeric] of cells) tr.appendChild(cell(text, numeric));
  return tr;
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}

function fixed(x) { return x === null || x === undefined ? "" : Number(x).toFixed(1); }

async function refresh() {
  const query = new URLSearchParams({ n: $("f-n").value || "50" });
  if ($("f-type").value) query.set("type", $("f-type").value);
  if ($("f-channel").value) query.set("channel", $("f-channel").value);
  const [list, stats, queues] = await Promise.all(
    [api("/v1/tasklist?" + query), api("/v1/stats"), api("/v1/queues")]);
  $("tasks").replaceChildren(...list.tasks.map((t, i) => row([
    [String(list.offset + i + 1), true], [t.id], [t.type], [t.channel],
    [String(t.priority), true], [fixed(t.score), true], [fixed(t.age), true]], t.id)));
  const types = new Set([...Object.keys(stats.waiting), ...Object.keys(stats.by_type)]);
  $("queues").replaceChildren(...Object.entries(queues.queues).sort().map(([name, q]) =>
    row([[name], [String(q.waiting), true], [fixed(q.oldest_wait), true],
      // "Infinity": no logged-on agent serves the queue; null: no handle time known yet.
      [q.expected_wait === "Infinity" ? "no agent" : fixed(q.expected_wait), true],
      [String(q.agents), true], [String(q.available), true]], name)));
  $("types").replaceChildren(...[...types].sort().map((type) => {
    const counts = stats.by_type[type] || {};
    const closed = (counts.completed || 0);
    const breached = counts.sla_breached || 0;
    const level = closed ? Math.max(0, 100 * (closed - breached) / closed).toFixed(0) + " %" : "";
    return row([[type], [String(stats.waiting[type] || 0), true],
      [fixed(stats.oldest_age[type]), true], [String(counts.submitted || 0), true],
      [String(closed), true], [String(breached), true], [level, true]], type);
  }));
  $("agents").replaceChildren(...Object.entries(stats.agents).sort().map(([id, a]) =>
    row([[id], [a.state], [Object.entries(a.load).map(([c, n]) => c + " " + n).join(", ")],
      [a.occupancy === null ? "" : (100 * a.occupancy).toFixed(0) + " %", true],
      [String(a.tasks_handled), true]], id)));
  state.version += 1;
  document.body.dataset.version = String(state.version);
}

function schedule() {
  if (state.pending !== null) return;
  state.pending = setTimeout(async () => {
    state.pending = null;
    try { await refresh(); } catch (error) { status(String(error), true); }
  }, 100);
}

function status(text, down) {
  $("status").textContent = text;
  $("status").className = down ? "down" : "";
}

async function stream() {
  for (;;) {
    try {
      const headers = { Authorization: "Bearer " + state.token };
      if (state.last !== null) headers["Last-Event-ID"] = String(state.last);
      const response = await fetch("/v1/events", { headers });
      if (!response.ok) throw new Error("events: " + response.status);
      status("live");
      schedule();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\\n\\n")) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of message.split("\\n")) {
            if (line.startsWith("id: ")) state.last = Number(line.slice(4));
          }
          if (message.includes("data: ")) schedule();
        }
      }
      status("reconnecting...", true);
    } catch (error) {
      status(String(error) + "; reconnecting...", true);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function start() {
  state.token = tokenFromPage();
  if (!state.token) {
    $("login").hidden = false;
    status("a supervisor token is needed", true);
    return;
  }
  sessionStorage.setItem("valueroute-token", state.token);
  for (const id of ["f-type", "f-channel", "f-n"]) $(id).addEventListener("input", schedule);
  stream();
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  location.hash = "token=" + encodeURIComponent($("token").value);
  $("login").hidden = true;
  start();
});
$("filters").addEventListener("submit", (event) => event.preventDefault());
start();
</script>
</body>
</html>
"""
