// The built-in dashboard: fetches /dashboard/data for the chosen range and draws every chart as SVG.
// Plain JavaScript, no library, nothing loaded from outside the app. User text (questions, answers,
// model names) only ever goes into textContent, never into HTML.
(() => {
  "use strict";

  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16"];
  const RELEVANCE_COLORS = { RELEVANT: "#16a34a", PARTLY_RELEVANT: "#eab308", NON_RELEVANT: "#dc2626", UNJUDGED: "#9ca3af" };
  const REFRESH_MS = 60000;
  const SPARSE_POINTS = 12;  // up to this many points in a series, each is drawn larger and labelled

  const main = document.getElementById("dashboard");
  const statusEl = document.getElementById("status");
  const rangeSel = document.getElementById("range");
  const customEl = document.getElementById("custom");
  const fromEl = document.getElementById("from");
  const toEl = document.getElementById("to");
  let lastData = null;
  let timer = null;

  // ---- formatting ---------------------------------------------------------------------------------
  const pad = (n) => String(n).padStart(2, "0");
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function fmtTime(epochSeconds, spanSeconds) {
    const d = new Date(epochSeconds * 1000);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (spanSeconds <= 36 * 3600) return hm;
    const day = `${MONTHS[d.getMonth()]} ${d.getDate()}`;
    return spanSeconds <= 8 * 86400 ? `${day} ${hm}` : day;
  }
  function fmtDateTime(iso) {
    const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  function fmtSeconds(v) {
    if (v === null || v === undefined) return "–";
    if (v === 0) return "0 s";
    if (v < 1) { const ms = v * 1000; return `${ms >= 10 ? ms.toFixed(0) : String(+ms.toFixed(1))} ms`; }
    return `${v.toFixed(v < 10 ? 2 : 1)} s`;
  }
  function fmtCount(v) {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
    if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
    if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
    return Number.isInteger(v) ? String(v) : v.toFixed(a < 1 ? 2 : 1);
  }
  function fmtUSD(v) {
    if (v === null || v === undefined) return "–";
    return `$${v === 0 || v >= 1 ? v.toFixed(2) : v.toPrecision(3)}`;
  }
  // The decimals an axis step needs (0.025 -> 3, 2.5 -> 1, 20 -> 0), at most 3.
  function stepDigits(step) {
    let digits = 0;
    while (digits < 3 && Math.abs(step * 10 ** digits - Math.round(step * 10 ** digits)) > 1e-6) digits++;
    return digits;
  }
  // One unit for a whole axis, chosen from its range: ms when the axis stays under a second, else s.
  // `tick` writes the axis steps with just enough decimals, `value` a point's own value in the same unit.
  function secondsAxis(scale) {
    const [unit, factor] = scale.max < 1 ? ["ms", 1000] : ["s", 1];
    const step = scale.step * factor;
    const digits = stepDigits(step);
    const value = (v) => {
      const x = v * factor;
      return `${x >= 100 ? x.toFixed(0) : String(+x.toFixed(x >= 10 ? 1 : 2))} ${unit}`;
    };
    return { tick: (v) => `${(v * factor).toFixed(digits)} ${unit}`, value };
  }
  // Count axes: steps such as 0.025 keep their decimals instead of rounding to 0.03.
  function countAxis(scale) {
    const digits = stepDigits(scale.step);
    return { tick: (v) => (v >= 1000 ? fmtCount(v) : v.toFixed(digits)), value: fmtCount };
  }
  const fmtPercent = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(v === 0 || v === 1 ? 0 : 1)}%`);

  // ---- SVG helpers --------------------------------------------------------------------------------
  function el(tag, attrs, parent, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function canvas(container) {
    container.replaceChildren();
    const w = Math.max(container.clientWidth, 200);
    const h = Math.max(container.clientHeight, 120);
    const caption = container.closest("figure")?.querySelector("figcaption");
    const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": caption ? caption.textContent : "chart" }, container);
    return { svg, w, h };
  }
  function empty(container, message) {
    const { svg, w, h } = canvas(container);
    el("text", { x: w / 2, y: h / 2, "text-anchor": "middle", class: "empty" }, svg, message || "No data in this range");
    container.dataset.points = "0";
    container.dataset.rendered = "1";
  }
  // A y axis from 0 with at most 4 round steps (1, 2, 2.5 or 5 times a power of ten) covering `max`.
  function niceScale(max) {
    if (!(max > 0)) return { max: 1, step: 0.25 };
    const raw = max / 4;
    const exp = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / exp;
    const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * exp;
    return { max: Math.ceil(max / step - 1e-9) * step, step };
  }
  // Draws the legend from (x, y), wrapping at `maxX`; returns the y of its last line.
  function legend(svg, items, x, y, maxX) {
    const g = el("g", { class: "legend" }, svg);
    let cx = x, cy = y;
    for (const item of items) {
      const rect = el("rect", { x: cx, y: cy - 9, width: 10, height: 10, rx: 2, fill: item.color }, g);
      const t = el("text", { x: cx + 14, y: cy }, g, item.name);
      const width = 14 + t.getComputedTextLength() + 14;
      if (maxX && cx > x && cx + width - 14 > maxX) {
        cx = x;
        cy += 16;
        rect.setAttribute("x", cx); rect.setAttribute("y", cy - 9);
        t.setAttribute("x", cx + 14); t.setAttribute("y", cy);
      }
      cx += width;
    }
    return cy;
  }

  // ---- charts -------------------------------------------------------------------------------------
  // Time series: `series` = [{name, values, color}] aligned with data.series.time; kind "line" or "bar".
  // `opts.units(scale)` may give the axis and value formats ({tick, value}); else `opts.fmt` is both.
  // With few points (a little history) each point is larger and labelled with its value, and the points of a
  // line are joined across empty buckets (dashed), so a short history reads as a line, not as scattered dots.
  function timeChart(container, data, series, opts) {
    const from = firstActiveBucket(data);
    const times = data.series.time.slice(from);
    series = series.map((s) => ({ ...s, values: s.values.slice(from) }));
    const step = data.range.bucket_seconds;
    const present = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
    // bars of counts and sums: with answers in the range but nothing to count, an axis at zero says so
    const nothing = opts.kind === "bar" ? !data.summary.answers : !present.length;
    if (!times.length || nothing) {
      empty(container);
      return;
    }
    const { svg, w, h } = canvas(container);
    const m = { l: 56, r: 10, t: 22, b: 22 };
    m.t = legend(svg, series, m.l, 12, w - m.r) + 10;
    const pw = w - m.l - m.r, ph = h - m.t - m.b;
    const t0 = times[0], t1 = times[times.length - 1] + step;
    const span = new Date(data.range.to) / 1000 - new Date(data.range.from) / 1000;
    const x = (t) => m.l + ((t - t0) / (t1 - t0)) * pw;
    let max;
    if (opts.kind === "bar" && opts.stacked) {
      max = Math.max(...times.map((_, i) => series.reduce((a, s) => a + (s.values[i] || 0), 0)));
    } else {
      max = Math.max(...present);
    }
    const headroom = present.length <= SPARSE_POINTS * series.length ? 1.12 : 1;  // room for the value labels
    const scale = opts.yMax ? { max: opts.yMax, step: opts.yMax / 4 } : niceScale(max * headroom);
    const yMax = scale.max;
    const y = (v) => m.t + ph - (v / yMax) * ph;
    const units = opts.units ? opts.units(scale) : { tick: opts.fmt, value: opts.fmt };
    const busiest = Math.max(...series.map((s) => s.values.filter((v) => v !== null && v !== undefined && (opts.kind !== "bar" || v > 0)).length));
    const sparse = busiest <= SPARSE_POINTS;

    for (let i = 0; i * scale.step <= yMax * (1 + 1e-9); i++) {
      const v = i * scale.step;
      el("line", { x1: m.l, x2: m.l + pw, y1: y(v), y2: y(v), class: "gridline" }, svg);
      el("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, svg, units.tick(v));
    }
    el("line", { x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, class: "axis" }, svg);
    const every = Math.max(1, Math.ceil(times.length / Math.max(2, Math.floor(pw / 80))));
    times.forEach((t, i) => {
      if (i % every) return;
      el("line", { x1: x(t), x2: x(t), y1: m.t + ph, y2: m.t + ph + 4, class: "axis" }, svg);
      el("text", { x: x(t), y: h - 6, "text-anchor": "middle" }, svg, fmtTime(t, span));
    });

    let points = 0;
    const label = (i) => fmtTime(times[i], Math.min(span, 36 * 3600)) + (span > 36 * 3600 ? ` (${fmtTime(times[i], span)})` : "");
    if (opts.kind === "bar") {
      const bw = Math.max(1, (pw / times.length) * 0.7);
      times.forEach((t, i) => {
        let base = 0;
        series.forEach((s, si) => {
          const v = s.values[i] || 0;
          if (v <= 0) return;
          const bx = opts.stacked ? x(t + step / 2) - bw / 2 : x(t + step / 2) - bw / 2 + (bw / series.length) * si;
          const width = opts.stacked ? bw : bw / series.length;
          const top = y(base + v), bottom = y(base);
          const r = el("rect", { x: bx, y: top, width, height: Math.max(bottom - top, 1), fill: s.color, class: "bar" }, svg);
          el("title", {}, r, `${label(i)} · ${s.name}: ${units.value(v)}`);
          if (sparse && !opts.stacked) valueLabel(svg, bx + width / 2, top, units.value(v));
          if (opts.stacked) base += v;
          points += 1;
        });
        if (sparse && opts.stacked && base > 0) valueLabel(svg, x(t + step / 2), y(base), units.value(base));
      });
    } else {
      const labelled = sparse && series.length <= 2;
      series.forEach((s) => {
        let d = "", gaps = "";
        let last = null;  // [x, y, index] of the previous point
        s.values.forEach((v, i) => {
          if (v === null || v === undefined) return;
          const px = x(times[i] + step / 2).toFixed(1), py = y(v).toFixed(1);
          if (last && last[2] === i - 1) d += `L${px},${py}`;
          else {
            if (last) gaps += `M${last[0]},${last[1]}L${px},${py}`;
            d += `M${px},${py}`;
          }
          last = [px, py, i];
        });
        el("path", { d, stroke: s.color, class: "series" }, svg);
        if (gaps) el("path", { d: gaps, stroke: s.color, class: "series-gap" }, svg);
        s.values.forEach((v, i) => {
          if (v === null || v === undefined) return;
          const cx = x(times[i] + step / 2), cy = y(v);
          const c = el("circle", { cx, cy, r: sparse ? 4 : 3, fill: s.color, class: "point" }, svg);
          el("title", {}, c, `${label(i)} · ${s.name}: ${units.value(v)}`);
          if (labelled) valueLabel(svg, cx, cy - 3, units.value(v));
          points += 1;
        });
      });
    }
    if (!points) {
      el("text", { x: m.l + pw / 2, y: m.t + ph / 2, "text-anchor": "middle", class: "empty" }, svg,
        "0 throughout this range");
    }
    container.dataset.points = String(points);
    container.dataset.rendered = "1";
  }

  // A history much shorter than the range would be squeezed against its right edge: the time charts then
  // start one bucket before the first answer (the status line says so).
  function firstActiveBucket(data) {
    const first = data.series.answers.findIndex((n) => n > 0);
    return first > data.series.time.length / 2 ? first - 1 : 0;
  }

  // A point's value above it, or below it when that would cover a label already drawn in this chart (or not
  // at all when both would).
  function valueLabel(svg, cx, top, text) {
    const t = el("text", { x: cx, y: top - 5, "text-anchor": "middle", class: "value-label" }, svg, text);
    const overlaps = () => {
      const a = t.getBBox();
      return [...svg.querySelectorAll("text.value-label")].some((o) => {
        if (o === t) return false;
        const b = o.getBBox();
        return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      });
    };
    if (overlaps()) t.setAttribute("y", top + 16);
    if (overlaps()) t.remove();  // the point's tooltip still has it
  }

  // Horizontal bars: rows = [{label, parts: [{name, value, color}]}], stacked per row.
  function barList(container, rows, fmt, legendItems) {
    const total = rows.reduce((a, r) => a + r.parts.reduce((b, p) => b + p.value, 0), 0);
    if (!rows.length || total <= 0) { empty(container); return; }
    const { svg, w, h } = canvas(container);
    const top = legendItems ? legend(svg, legendItems, 8, 12, w - 8) + 12 : 6;
    const labelW = Math.min(150, w * 0.32);
    const maxRow = Math.max(...rows.map((r) => r.parts.reduce((b, p) => b + p.value, 0)));
    const rowH = Math.min(34, (h - top - 4) / rows.length);
    const bh = Math.max(6, rowH * 0.62);
    const pw = w - labelW - 60;
    let points = 0;
    rows.forEach((r, i) => {
      const cy = top + rowH * i + rowH / 2;
      const t = el("text", { x: labelW - 8, y: cy + 4, "text-anchor": "end" }, svg, r.label);
      for (let n = r.label.length - 1; n > 4 && t.getComputedTextLength() > labelW - 12; n--) {
        t.textContent = `${r.label.slice(0, n)}…`;
      }
      el("title", {}, t, r.label);
      let x = labelW;
      let sum = 0;
      for (const p of r.parts) {
        if (p.value <= 0) continue;
        const width = (p.value / maxRow) * pw;
        const rect = el("rect", { x, y: cy - bh / 2, width: Math.max(width, 1), height: bh, fill: p.color, class: "bar" }, svg);
        el("title", {}, rect, `${r.label} · ${p.name}: ${fmt(p.value)}`);
        x += width;
        sum += p.value;
        points += 1;
      }
      el("text", { x: x + 6, y: cy + 4 }, svg, fmt(sum));
    });
    container.dataset.points = String(points);
    container.dataset.rendered = "1";
  }

  // Donut with a legend of values and shares: items = [{name, value, color}].
  function donut(container, items) {
    const total = items.reduce((a, it) => a + it.value, 0);
    if (total <= 0) { empty(container); return; }
    const { svg, w, h } = canvas(container);
    const r = Math.min(h / 2 - 8, w / 4), cx = r + 16, cy = h / 2, inner = r * 0.58;
    let angle = -Math.PI / 2;
    let points = 0;
    for (const it of items) {
      if (it.value <= 0) continue;
      const a = (it.value / total) * Math.PI * 2;
      let shape;
      if (it.value === total) {
        const g = el("g", {}, svg);
        el("circle", { cx, cy, r, fill: it.color, class: "slice" }, g);
        el("circle", { cx, cy, r: inner, fill: "#fff" }, g);
        shape = g;
      } else {
        const large = a > Math.PI ? 1 : 0;
        const p = (rad, ang) => `${(cx + rad * Math.cos(ang)).toFixed(2)},${(cy + rad * Math.sin(ang)).toFixed(2)}`;
        const d = `M${p(r, angle)} A${r},${r} 0 ${large} 1 ${p(r, angle + a)} L${p(inner, angle + a)} A${inner},${inner} 0 ${large} 0 ${p(inner, angle)} Z`;
        shape = el("path", { d, fill: it.color, class: "slice" }, svg);
      }
      el("title", {}, shape, `${it.name}: ${it.value} (${fmtPercent(it.value / total)})`);
      angle += a;
      points += 1;
    }
    el("text", { x: cx, y: cy + 6, "text-anchor": "middle", style: "font-size:18px;font-weight:600;fill:#1f2430" }, svg, fmtCount(total));
    const lx = cx + r + 28;
    const g = el("g", { class: "legend" }, svg);
    items.forEach((it, i) => {
      const ly = cy - (items.length * 22) / 2 + i * 22 + 12;
      el("rect", { x: lx, y: ly - 10, width: 12, height: 12, rx: 2, fill: it.color }, g);
      el("text", { x: lx + 18, y: ly }, g, `${it.name}  ${it.value}  (${fmtPercent(it.value / total)})`);
    });
    container.dataset.points = String(points);
    container.dataset.rendered = "1";
  }

  // ---- page ---------------------------------------------------------------------------------------
  function chart(name) { return main.querySelector(`[data-chart="${name}"]`); }
  function stat(name, text) { main.querySelector(`[data-stat="${name}"]`).textContent = text; }

  function render(data) {
    const s = data.summary, S = data.series;
    stat("answers", fmtCount(s.answers));
    stat("conversations", `${s.conversations} conversation${s.conversations === 1 ? "" : "s"}`);
    stat("requests_per_minute", s.requests_per_minute.toFixed(s.requests_per_minute < 10 ? 2 : 1));
    stat("response_time", fmtSeconds(s.response_time_p50));
    stat("response_time_sub", `p95 ${fmtSeconds(s.response_time_p95)} · avg ${fmtSeconds(s.response_time_avg)}`);
    stat("ttft", fmtSeconds(s.ttft_p50));
    stat("ttft_sub", s.ttft_p50 === null ? "no streamed answers" : `p95 ${fmtSeconds(s.ttft_p95)} · streamed answers`);
    stat("total_tokens", fmtCount(s.total_tokens));
    stat("tokens_split", `${fmtCount(s.prompt_tokens)} prompt · ${fmtCount(s.completion_tokens)} completion`);
    stat("cost", fmtUSD(s.cost));
    stat("no_sources", fmtCount(s.no_sources));
    stat("no_sources_rate", s.no_sources_rate === null ? "of no answers" : `${fmtPercent(s.no_sources_rate)} of answers`);
    stat("feedback", `${s.feedback_up} / ${s.feedback_down}`);
    stat("feedback_ratio", s.feedback_ratio === null ? "no feedback" : `${fmtPercent(s.feedback_ratio)} positive`);

    const [blue, amber, green, red, violet, cyan] = PALETTE;
    timeChart(chart("requests"), data, [{ name: "requests / min", values: S.requests_per_minute, color: blue }],
      { kind: "bar", fmt: fmtCount, units: countAxis });
    timeChart(chart("response_time"), data, [
      { name: "average", values: S.response_time_avg, color: blue },
      { name: "p95", values: S.response_time_p95, color: red },
    ], { kind: "line", fmt: fmtSeconds, units: secondsAxis });
    timeChart(chart("latency"), data, [
      { name: "retrieval p50", values: S.retrieval_p50, color: cyan },
      { name: "retrieval p95", values: S.retrieval_p95, color: blue },
      { name: "generation p50", values: S.generation_p50, color: amber },
      { name: "generation p95", values: S.generation_p95, color: red },
    ], { kind: "line", fmt: fmtSeconds, units: secondsAxis });
    timeChart(chart("ttft"), data, [
      { name: "p50", values: S.ttft_p50, color: green },
      { name: "p95", values: S.ttft_p95, color: violet },
    ], { kind: "line", fmt: fmtSeconds, units: secondsAxis });
    timeChart(chart("tokens"), data, [
      { name: "prompt", values: S.prompt_tokens, color: blue },
      { name: "completion", values: S.completion_tokens, color: amber },
    ], { kind: "bar", stacked: true, fmt: fmtCount });
    timeChart(chart("cost"), data, [{ name: "cost", values: S.cost, color: violet }], { kind: "bar", fmt: fmtUSD });
    timeChart(chart("no_sources"), data, [{ name: "answers with no sources", values: S.no_sources, color: red }],
      { kind: "bar", fmt: fmtCount, units: countAxis });
    timeChart(chart("feedback_ratio"), data, [{ name: "share of +1", values: S.feedback_ratio, color: green }],
      { kind: "line", fmt: fmtPercent, yMax: 1 });
    donut(chart("feedback"), [
      { name: "+1", value: data.feedback.up, color: "#16a34a" },
      { name: "−1", value: data.feedback.down, color: "#dc2626" },
    ]);
    donut(chart("relevance"), Object.entries(data.relevance).map(([name, value]) => ({ name, value, color: RELEVANCE_COLORS[name] || "#6b7280" })));
    barList(chart("models"), data.models.map((r, i) => ({ label: r.model, parts: [{ name: "answers", value: r.answers, color: PALETTE[i % PALETTE.length] }] })), fmtCount);
    const labels = Object.keys(RELEVANCE_COLORS);
    barList(chart("relevance_by_model"), data.relevance_by_model.map((r) => ({
      label: r.model, parts: labels.map((l) => ({ name: l, value: r[l] || 0, color: RELEVANCE_COLORS[l] })),
    })), fmtCount, labels.map((l) => ({ name: l, color: RELEVANCE_COLORS[l] })));

    const body = document.querySelector("#last-answers tbody");
    body.replaceChildren();
    if (!data.last_answers.length) {
      const td = document.createElement("td");
      td.colSpan = 6;
      td.className = "muted";
      td.textContent = "No answers in this range.";
      body.appendChild(document.createElement("tr")).appendChild(td);
    }
    for (const a of data.last_answers) {
      const tr = body.appendChild(document.createElement("tr"));
      const cell = (text, cls) => { const td = tr.appendChild(document.createElement("td")); td.textContent = text; if (cls) td.className = cls; td.title = text; return td; };
      cell(fmtDateTime(a.timestamp).slice(5), "clip").title = fmtDateTime(a.timestamp);
      cell(a.question);
      cell(a.answer.length > 220 ? `${a.answer.slice(0, 219)}…` : a.answer).title = a.answer;
      const badge = document.createElement("span");
      badge.className = `badge ${a.relevance}`;
      badge.textContent = a.relevance;
      cell("").appendChild(badge);
      cell(a.model_used, "clip");
      cell(fmtSeconds(a.response_time), "clip");
    }
  }

  function currentRange() {
    if (rangeSel.value !== "custom") return { from: rangeSel.value, to: "now" };
    const from = fromEl.value ? new Date(fromEl.value).toISOString() : "";
    const to = toEl.value ? new Date(toEl.value).toISOString() : "now";
    return { from, to };
  }

  async function load() {
    clearTimeout(timer);
    const { from, to } = currentRange();
    if (!from) { statusEl.textContent = "Choose when the range starts."; return; }
    const params = new URLSearchParams({ from, to });
    history.replaceState(null, "", `?${params}`);
    main.dataset.state = "loading";
    statusEl.classList.remove("error");
    statusEl.textContent = "Loading…";
    try {
      const res = await apiFetch(`${main.dataset.url}?${params}`, { headers: { Accept: "application/json" } });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
      lastData = body;
      render(body);
      const now = new Date();
      document.getElementById("store").textContent = `Log store: ${body.store_description}`;
      statusEl.textContent = `${fmtDateTime(body.range.from)} → ${fmtDateTime(body.range.to)} · ` +
        `${body.summary.answers} answers · one point per ${fmtBucket(body.range.bucket_seconds)} · updated ` +
        `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}` +
        (body.truncated ? " · only the most recent answers are counted" : "") +
        (firstActiveBucket(body) ? ` · charts start at ${fmtTime(body.series.time[firstActiveBucket(body)], 0)}, before the first answer` : "");
      main.dataset.state = "ready";
    } catch (err) {
      statusEl.textContent = `Could not load the numbers: ${err.message}`;
      statusEl.classList.add("error");
      main.dataset.state = "error";
    }
    if (rangeSel.value !== "custom") timer = setTimeout(load, REFRESH_MS);
  }

  function fmtBucket(s) {
    if (s % 86400 === 0) return `${s / 86400} day${s === 86400 ? "" : "s"}`;
    if (s % 3600 === 0) return `${s / 3600} hour${s === 3600 ? "" : "s"}`;
    return `${s / 60} minute${s === 60 ? "" : "s"}`;
  }

  function toLocalInput(date) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  // A range given in the page URL (?from=now-1h or ISO times) is restored.
  const params = new URLSearchParams(location.search);
  const initialFrom = params.get("from");
  if (initialFrom) {
    const initialTo = params.get("to") || "now";
    if (initialTo === "now" && [...rangeSel.options].some((o) => o.value === initialFrom)) {
      rangeSel.value = initialFrom;
    } else {
      const f = new Date(initialFrom), t = initialTo === "now" ? new Date() : new Date(initialTo);
      if (!isNaN(f) && !isNaN(t)) {
        rangeSel.value = "custom";
        fromEl.value = toLocalInput(f);
        toEl.value = toLocalInput(t);
      }
    }
  }
  customEl.hidden = rangeSel.value !== "custom";

  rangeSel.addEventListener("change", () => {
    customEl.hidden = rangeSel.value !== "custom";
    if (rangeSel.value === "custom") {
      if (!fromEl.value) {
        const end = new Date();
        fromEl.value = toLocalInput(new Date(end - 24 * 3600 * 1000));
        toEl.value = toLocalInput(end);
      }
      return;
    }
    load();
  });
  document.getElementById("range-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  document.getElementById("refresh").addEventListener("click", load);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (lastData) render(lastData); }, 150);
  });
  load();
})();
