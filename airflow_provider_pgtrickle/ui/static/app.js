// Stream tables page. Plain JavaScript, no dependencies: everything is drawn from the JSON
// endpoints next to this file (relative URLs, so the page works under any mount point).
// Every value from the database is inserted with textContent, never as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 210;
const NODE_H = 38;
const COL_GAP = 70;
const ROW_GAP = 12;
const ERROR_CHARS = 44; // longer errors show their start and a "full text" link

const state = {
  connections: [],
  connection: null,
  // Replaced by /api/config: the statuses and which of them are failed come from the
  // provider's vocabulary, never from this file.
  config: { actions_enabled: false, refresh_seconds: 30, statuses: [], failed_statuses: [] },
  overview: null,
  selected: null,
  expandedErrors: new Set(),
  timer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path, options) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    ...options,
  });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (!response.ok) {
    const detail = body && body.detail;
    const error = new Error(
      typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : response.statusText,
    );
    error.status = response.status;
    throw error;
  }
  return body;
}

function showMessage(text, kind) {
  const box = $("message");
  box.hidden = !text;
  box.className = "message" + (kind ? " " + kind : "");
  box.replaceChildren();
  if (!text) return;
  box.append(text);
}

function showError(error) {
  // 401: no session; 403 "Invalid JWT token": a session from another server or secret.
  if (error.status === 401 || (error.status === 403 && /token/i.test(error.message))) {
    showMessage("");
    const box = $("message");
    box.hidden = false;
    box.append("You are not logged in to Airflow. ");
    box.append(el("a", { href: "/", target: "_top" }, "Log in"));
    box.append(" and open this page again.");
    return;
  }
  showMessage(error.message);
}

// ---- formatting -----------------------------------------------------------------------------

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "never refreshed";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}

function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return (
    d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
    pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds())
  );
}

// Today's times as hh:mm:ss, older ones with their date (the full value is in the tooltip).
function shortWhen(iso) {
  if (!iso) return "—";
  const full = when(iso);
  return full.slice(0, 10) === when(new Date().toISOString()).slice(0, 10)
    ? full.slice(11)
    : full.slice(0, 16);
}

function sentence(table) {
  return table.name + " " + table.health_reason + ".";
}

function healthLabel(health) {
  return { healthy: "healthy", warning: "needs attention", failed: "failed" }[health] || health;
}

// ---- data -----------------------------------------------------------------------------------

function filteredTables() {
  if (!state.overview) return [];
  const schema = $("schema").value;
  const status = $("status").value;
  const search = $("search").value.trim().toLowerCase();
  return state.overview.stream_tables.filter((t) => {
    if (schema && t.schema !== schema) return false;
    if (status === "healthy" || status === "failed") {
      if (t.health !== status) return false;
    } else if (status === "unhealthy") {
      if (t.health === "healthy") return false;
    } else if (status && t.status !== status) return false;
    if (search && !t.name.toLowerCase().includes(search)) return false;
    return true;
  });
}

async function loadConnections() {
  const body = await api("api/connections");
  state.connections = body.connections;
  const select = $("connection");
  select.replaceChildren();
  if (!state.connections.length) {
    select.append(el("option", { value: "" }, "no postgres connections"));
    showMessage(
      "No Airflow connection of type postgres or pgtrickle is defined. Create one under " +
        "Admin > Connections, then reload this page.",
      "info",
    );
    return;
  }
  for (const c of state.connections) {
    select.append(el("option", { value: c.connection_id }, c.connection_id));
  }
  const wanted =
    new URLSearchParams(location.search).get("connection") ||
    localStorage.getItem("pgtrickle-ui-connection");
  const ids = state.connections.map((c) => c.connection_id);
  state.connection = ids.includes(wanted) ? wanted : ids[0];
  select.value = state.connection;
}

async function loadOverview() {
  if (!state.connection) return;
  const conn = encodeURIComponent(state.connection);
  try {
    const body = await api("api/connections/" + conn + "/overview");
    if (body.connection_id !== state.connection) return; // a newer choice is on its way
    state.overview = body;
    showMessage("");
    $("updated").textContent =
      "Updated " + when(body.generated_at).slice(11) + " · every " + state.config.refresh_seconds + " s";
    fillSchemas();
    render();
    if (state.selected) loadDetail(state.selected, false);
  } catch (error) {
    state.overview = null;
    render();
    showError(error);
  }
}

function fillStatuses() {
  const select = $("status");
  for (const s of state.config.statuses) select.append(el("option", { value: s }, s));
}

function fillSchemas() {
  const select = $("schema");
  const current = select.value;
  const schemas = [...new Set(state.overview.stream_tables.map((t) => t.schema))].sort();
  select.replaceChildren(el("option", { value: "" }, "All"));
  for (const s of schemas) select.append(el("option", { value: s }, s));
  select.value = schemas.includes(current) ? current : "";
}

// ---- rendering ------------------------------------------------------------------------------

function render() {
  const tables = filteredTables();
  renderSummary();
  renderTable(tables);
  renderGraph(tables);
}

function renderSummary() {
  const box = $("summary");
  box.replaceChildren();
  if (!state.overview) return;
  const all = state.overview.stream_tables;
  const count = (h) => all.filter((t) => t.health === h).length;
  const tile = (cls, n, label, filter) =>
    el("div", {
      class: "tile " + cls,
      title: "Show " + label,
      onclick: () => {
        $("status").value = filter;
        render();
      },
    }, el("b", {}, n), label);
  box.append(
    tile("", all.length, "stream tables", ""),
    tile("healthy", count("healthy"), "healthy", "healthy"),
    tile("warning", count("warning"), "need attention", "unhealthy"),
    tile("failed", count("failed"), "failed", "failed"),
  );
  const managed = all.filter((t) => t.dbt_managed === true).length;
  if (state.overview.dbt_manifest) {
    box.append(el("div", { class: "tile", title: state.overview.dbt_manifest },
      el("b", {}, managed), "managed by dbt"));
  }
}

function renderTable(tables) {
  const body = document.querySelector("#tables tbody");
  body.replaceChildren();
  $("count").textContent = state.overview
    ? tables.length + " of " + state.overview.stream_tables.length
    : "";
  if (!tables.length) {
    body.append(el("tr", {}, el("td", { colspan: 10, class: "empty" },
      state.overview ? "No stream tables match." : "No data.")));
    return;
  }
  for (const t of tables) {
    let errorCell = "—";
    if (t.last_error_message) {
      const full = state.expandedErrors.has(t.name);
      const text = t.last_error_message;
      const short = text.length > ERROR_CHARS && !full ? text.slice(0, ERROR_CHARS) + "…" : text;
      errorCell = el("span", {}, short);
      if (text.length > ERROR_CHARS) {
        errorCell.append(el("button", {
          class: "linkish", type: "button",
          onclick: (event) => {
            event.stopPropagation();
            if (full) state.expandedErrors.delete(t.name);
            else state.expandedErrors.add(t.name);
            render();
          },
        }, full ? "less" : "full text"));
      }
    }
    const row = el("tr", {
      class: "health-" + t.health + (state.selected === t.name ? " selected" : ""),
      "data-name": t.name,
      "data-health": t.health,
      title: sentence(t),
      onclick: () => select(t.name),
    },
      el("td", { class: "name" }, t.name, t.needs_recreation ? el("span", {
        class: "pill failed needs-recreation",
        title: "Row identity V1 left by an upgrade: pg_trickle rejects this table until it is dropped and created again",
      }, "recreate") : null),
      el("td", {}, el("span", { class: "pill " + t.health }, t.status)),
      el("td", {}, t.refresh_mode),
      el("td", {}, t.schedule || "—"),
      el("td", { class: t.stale ? "stale" : "" }, duration(t.staleness_seconds)),
      el("td", { title: when(t.last_refresh_at) }, shortWhen(t.last_refresh_at)),
      el("td", { class: "num" }, t.consecutive_errors),
      el("td", { class: "error" }, errorCell),
      el("td", {}, t.fuse_mode === "off" ? "off" : t.fuse_mode + " · " + t.fuse_state),
      el("td", { title: t.dbt_model || "" },
        t.dbt_managed === null ? "unknown" : t.dbt_managed ? t.dbt_model.split(".").pop() : "no"),
    );
    body.append(row);
  }
}

// Left-to-right layers: a node sits one column right of its furthest upstream node.
function layout(nodes, edges) {
  const parents = new Map(nodes.map((n) => [n.id, []]));
  const children = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) {
    if (parents.has(e.target) && parents.has(e.source)) {
      parents.get(e.target).push(e.source);
      children.get(e.source).push(e.target);
    }
  }
  const layer = new Map();
  const indegree = new Map(nodes.map((n) => [n.id, parents.get(n.id).length]));
  const queue = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  for (const id of queue) layer.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const child of children.get(id)) {
      layer.set(child, Math.max(layer.get(child) || 0, layer.get(id) + 1));
      indegree.set(child, indegree.get(child) - 1);
      if (indegree.get(child) === 0) queue.push(child);
    }
  }
  for (const n of nodes) if (!layer.has(n.id)) layer.set(n.id, 0); // cycles: leftmost column
  // A source sits just left of its first reader, so its edges stay short.
  for (const n of nodes) {
    const readers = children.get(n.id);
    if (!parents.get(n.id).length && readers.length) {
      layer.set(n.id, Math.max(0, Math.min(...readers.map((c) => layer.get(c))) - 1));
    }
  }
  const columns = [];
  for (const n of nodes) {
    const l = layer.get(n.id);
    (columns[l] = columns[l] || []).push(n);
  }
  // Order each column by the mean row of its parents (fewer crossings), then by name.
  const row = new Map();
  columns.forEach((column, l) => {
    const key = (n) => {
      const ps = parents.get(n.id).filter((p) => row.has(p));
      return l === 0 || !ps.length ? Infinity : ps.reduce((a, p) => a + row.get(p), 0) / ps.length;
    };
    column.sort((a, b) => key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    column.forEach((n, i) => row.set(n.id, i));
  });
  const pos = new Map();
  columns.forEach((column, l) =>
    column.forEach((n, i) =>
      pos.set(n.id, { x: 8 + l * (NODE_W + COL_GAP), y: 8 + i * (NODE_H + ROW_GAP) })));
  const height = Math.max(...columns.map((c) => c.length), 1) * (NODE_H + ROW_GAP) + 8;
  const width = columns.length * (NODE_W + COL_GAP) - COL_GAP + 16;
  return { pos, width, height };
}

function clip(text, max) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function renderGraph(tables) {
  const box = $("graph");
  box.replaceChildren();
  if (!state.overview) return;
  const shown = new Set(tables.map((t) => t.name));
  const byId = new Map(state.overview.nodes.map((n) => [n.id, n]));
  const status = new Map(state.overview.stream_tables.map((t) => [t.name, t]));
  const edges = state.overview.edges.filter((e) => shown.has(e.target));
  const ids = new Set(shown);
  for (const e of edges) ids.add(e.source);
  const nodes = [...ids].map((id) => byId.get(id)).filter(Boolean);
  if (!nodes.length) {
    box.append(el("div", { class: "empty" }, "Nothing to draw."));
    return;
  }
  const { pos, width, height } = layout(nodes, edges);
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Dependency graph" });
  for (const e of edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    const hot = state.selected && (e.source === state.selected || e.target === state.selected);
    root.append(svg("path", {
      class: "edge" + (hot ? " hot" : ""),
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 4},${y2}`,
      "marker-end": "url(#arrow)",
    }));
  }
  root.prepend(svg("defs", {}, svg("marker", {
    id: "arrow", viewBox: "0 0 8 8", refX: 6, refY: 4, markerWidth: 7, markerHeight: 7,
    orient: "auto-start-reverse",
  }, svg("path", { d: "M0,0 L8,4 L0,8 z", fill: "#adb5bd" }))));
  for (const n of nodes) {
    const p = pos.get(n.id);
    const st = status.get(n.id);
    const isTable = n.kind === "stream_table";
    const cls = "node " + (isTable ? "stream-table health-" + n.health : "source") +
      (state.selected === n.id ? " selected" : "");
    const sub = isTable
      ? st.status + (st.consecutive_errors ? " · " + st.consecutive_errors + " errors" : "") +
        (st.stale ? " · stale" : "")
      : n.kind.toLowerCase().replace("_", " ");
    const group = svg("g", {
      class: cls, transform: `translate(${p.x},${p.y})`, "data-id": n.id,
      "data-health": isTable ? n.health : "source",
      onclick: isTable ? () => select(n.id) : () => {},
    },
      svg("title", {}, isTable ? sentence(st) : n.id + " (" + sub + ")"),
      svg("rect", { width: NODE_W, height: NODE_H, rx: 7 }),
      svg("text", { x: 10, y: 16 }, clip(n.id, 30)),
      svg("text", { x: 10, y: 30, class: "sub" }, sub),
    );
    root.append(group);
  }
  box.append(root);
}

// ---- detail panel ---------------------------------------------------------------------------

function select(name) {
  state.selected = state.selected === name ? null : name;
  render();
  if (state.selected) loadDetail(state.selected, true);
  else $("detail").hidden = true;
}

async function loadDetail(name, reset) {
  const panel = $("detail");
  const table = state.overview && state.overview.stream_tables.find((t) => t.name === name);
  if (!table) {
    panel.hidden = true;
    return;
  }
  if (reset) {
    panel.hidden = false;
    panel.replaceChildren(el("h3", {}, name), el("div", { class: "muted" }, "Loading history…"));
  }
  const conn = encodeURIComponent(state.connection);
  let history;
  try {
    const body = await api(
      "api/connections/" + conn + "/stream-tables/" + encodeURIComponent(name) + "/history");
    history = body.history;
  } catch (error) {
    history = null;
    showError(error);
  }
  if (state.selected !== name) return;
  renderDetail(table, history);
}

function barChart(title, values, classes, format) {
  const w = 300, h = 70, pad = 18;
  const max = Math.max(...values, 0);
  const n = Math.max(values.length, 1);
  const slot = (w - 2) / n;
  const root = svg("svg", { width: w, height: h + pad, role: "img", "aria-label": title });
  root.append(svg("line", { x1: 0, y1: h, x2: w, y2: h, stroke: "#dee2e6" }));
  values.forEach((v, i) => {
    const bh = max > 0 ? Math.max(1, (v / max) * (h - 14)) : 1;
    root.append(svg("rect", {
      x: 1 + i * slot + slot * 0.15, y: h - bh, width: Math.max(1, slot * 0.7), height: bh,
      class: classes[i],
    }, svg("title", {}, format(v))));
  });
  root.append(svg("text", { x: 0, y: 10, class: "axis" }, max > 0 ? "max " + format(max) : "all " + format(0)));
  root.append(svg("text", { x: 0, y: h + 13, class: "axis" }, "older"));
  root.append(svg("text", { x: w, y: h + 13, class: "axis", "text-anchor": "end" }, "newest"));
  return el("div", { class: "chart" }, el("div", { class: "title" }, title), root);
}

function renderDetail(table, history) {
  const panel = $("detail");
  panel.hidden = false;
  panel.replaceChildren();
  panel.append(
    el("h3", {}, table.name),
    el("span", { class: "pill " + table.health }, table.status + " · " + healthLabel(table.health)),
    el("p", { class: "reason" }, sentence(table)),
  );
  if (table.needs_recreation) {
    panel.append(el("p", { class: "reason needs-recreation" },
      "Needs recreation: its storage still has row identity V1 (__pgt_row_id is not BYTEA " +
      "NOT NULL), which this pg_trickle rejects; drop and create it again."));
  }
  if (table.last_error_message) {
    panel.append(el("div", { class: "muted" }, "Last error" +
      (table.last_error_at ? " at " + when(table.last_error_at) : "")),
    el("pre", {}, table.last_error_message));
  }
  panel.append(el("dl", {},
    el("dt", {}, "Refresh mode"), el("dd", {}, table.refresh_mode),
    el("dt", {}, "Schedule"), el("dd", {}, table.schedule || "—"),
    el("dt", {}, "Data timestamp"), el("dd", {}, when(table.data_timestamp)),
    el("dt", {}, "Fuse"), el("dd", {}, table.fuse_mode + " · " + table.fuse_state),
    // pg_trickle's freshness SLA state (0.90.0+) and the last error's code (0.85.0+).
    el("dt", {}, "Freshness SLA"), el("dd", { class: "sla" }, table.sla_status || "—"),
    el("dt", {}, "Error code"), el("dd", { class: "error-code" }, table.error_code || "—"),
    el("dt", {}, "dbt model"), el("dd", {},
      table.dbt_managed === null ? "unknown (no manifest configured)" : table.dbt_model || "none"),
  ));
  if (history === null) {
    panel.append(el("div", { class: "muted" }, "History could not be read."));
  } else if (!history.length) {
    panel.append(el("div", { class: "muted" }, "No refreshes recorded yet."));
  } else {
    const cls = history.map((h) => (h.status === "FAILED" ? "bar-failed" : "bar-ok"));
    panel.append(
      el("div", { class: "muted" }, "Last " + history.length + " refreshes (red: failed)"),
      barChart("Duration", history.map((h) => h.duration_ms || 0), cls,
        (v) => (v >= 1000 ? (v / 1000).toFixed(1) + " s" : v >= 1 ? Math.round(v) + " ms" : "< 1 ms")),
      barChart("Rows changed (inserted + deleted)",
        history.map((h) => (h.rows_inserted || 0) + (h.rows_deleted || 0)),
        history.map(() => "bar-rows"), (v) => String(v)),
    );
  }
  if (state.config.actions_enabled) {
    const act = (action) => async () => {
      try {
        const conn = encodeURIComponent(state.connection);
        await api("api/connections/" + conn + "/stream-tables/" +
          encodeURIComponent(table.name) + "/" + action, { method: "POST" });
        await loadOverview();
      } catch (error) {
        showError(error);
      }
    };
    panel.append(el("div", { class: "actions" },
      el("button", { type: "button", onclick: act("refresh") }, "Refresh now"),
      state.config.failed_statuses.includes(table.status)
        ? el("button", { type: "button", class: "danger", onclick: act("resume") }, "Resume")
        : null));
  }
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  for (const id of ["schema", "status"]) $(id).addEventListener("change", render);
  $("search").addEventListener("input", render);
  $("reload").addEventListener("click", loadOverview);
  $("connection").addEventListener("change", () => {
    state.connection = $("connection").value;
    localStorage.setItem("pgtrickle-ui-connection", state.connection);
    state.selected = null;
    $("detail").hidden = true;
    loadOverview();
  });
  try {
    state.config = await api("api/config");
    fillStatuses();
    await loadConnections();
  } catch (error) {
    showError(error);
    return;
  }
  await loadOverview();
  state.timer = setInterval(loadOverview, state.config.refresh_seconds * 1000);
}

start();
