/* report.js - draws the page of `perfan report` from its JSON document (inlined by
 * embed.py; the document is the <script type="application/json" id="perfan-data">).
 *
 * What comes from the traces (types, inputs, paths, messages) is untrusted: it only ever
 * becomes text nodes and attribute values, never markup (no innerHTML anywhere).
 * When every part is drawn without error, <body data-rendered="ok"> and an empty
 * <div id="perfan-rendered"> say so; errors go to <body data-js-errors> and to the
 * #perfan-errors box, where a person and a headless browser (--dump-dom) both see them.
 */
"use strict";
(function () {
  var errors = [];

  function recordError(message) {
    errors.push(String(message));
    document.body.setAttribute("data-js-errors", errors.join("\n"));
    var box = document.getElementById("perfan-errors");
    if (box) {
      box.hidden = false;
      box.textContent = "The report could not be drawn completely:\n" + errors.join("\n");
    }
  }

  window.onerror = function (message, source, line, column) {
    recordError(message + " (line " + line + ", column " + column + ")");
  };
  window.addEventListener("unhandledrejection", function (e) {
    recordError("unhandled rejection: " + e.reason);
  });

  /* ---- building elements ------------------------------------------------------------- */

  var SVGNS = document.getElementById("svg-ns").namespaceURI;

  function append(parent, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) {
      child.forEach(function (c) { append(parent, c); });
    } else if (typeof child === "object" && child.nodeType) {
      parent.appendChild(child);
    } else {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }

  function build(node, attrs, children) {
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v !== null && v !== undefined && v !== false) node.setAttribute(k, String(v));
      });
    }
    for (var i = 0; i < children.length; i++) append(node, children[i]);
    return node;
  }

  /* h("td", {class: "num"}, "text", child, ...): an HTML element. */
  function h(tag, attrs) {
    return build(document.createElement(tag), attrs, Array.prototype.slice.call(arguments, 2));
  }

  /* s("rect", {...}, ...): an SVG element. */
  function s(tag, attrs) {
    return build(document.createElementNS(SVGNS, tag), attrs,
                 Array.prototype.slice.call(arguments, 2));
  }

  function tip(text) { return s("title", null, text); }

  /* ---- formatting ----------------------------------------------------------------------- */

  function sig3(v) { return v >= 99.95 ? v.toFixed(0) : v >= 9.995 ? v.toFixed(1) : v.toFixed(2); }
  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  /* A duration as perfan prints it: 850ns, 12.3µs, 1.50ms, 12.0s, 2m03s, 1h02m. */
  function dur(ns) {
    if (ns === null || ns === undefined) return "\u2013";
    if (ns < 999.5) return Math.round(ns) + "ns";
    if (ns < 999.5e3) return sig3(ns / 1e3) + "\u00b5s";
    if (ns < 999.5e6) return sig3(ns / 1e6) + "ms";
    if (ns < 59.95e9) return sig3(ns / 1e9) + "s";
    var sec = Math.round(ns / 1e9);
    if (sec < 3600) return Math.floor(sec / 60) + "m" + pad2(sec % 60) + "s";
    var min = Math.round(ns / 60e9);
    return Math.floor(min / 60) + "h" + pad2(min % 60) + "m";
  }

  var DECADES = ["1ns", "10ns", "100ns", "1\u00b5s", "10\u00b5s", "100\u00b5s", "1ms", "10ms",
                 "100ms", "1s", "10s", "100s", "1000s", "10\u2074s", "10\u2075s", "10\u2076s"];
  function decade(k) { return DECADES[k] || ("1e" + k + "ns"); }

  function int(n) { return Number(n).toLocaleString("en-US"); }

  function pct(x) { return (100 * x).toFixed(1) + "%"; }

  /* Local wall-clock time of Unix ns, to the millisecond (or the second). */
  function wall(ns, seconds) {
    var d = new Date(ns / 1e6);
    var t = d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " +
            pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
    if (seconds) return t;
    var ms = d.getMilliseconds();
    return t + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms;
  }

  function clock(ns, withMs) {
    var d = new Date(ns / 1e6);
    var t = pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
    if (!withMs) return t;
    var ms = d.getMilliseconds();
    return t + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + ms;
  }

  function value(v) {
    if (typeof v === "string") return JSON.stringify(v);
    if (v === null) return "null";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  /* Fields as `name=value name="text"`, like perfan's text output. */
  function fields(obj) {
    if (!obj) return "";
    return Object.keys(obj).map(function (k) { return k + "=" + value(obj[k]); }).join(" ");
  }

  function plural(n, word, many) { return int(n) + " " + (n === 1 ? word : (many || word + "s")); }

  /* ---- scales and axes ------------------------------------------------------------------ */

  function linear(d0, d1, r0, r1) {
    var k = d1 > d0 ? (r1 - r0) / (d1 - d0) : 0;
    return function (v) { return r0 + (v - d0) * k; };
  }

  /* A log10 scale over durations in ns, [lo, hi] with lo >= 1. */
  function logScale(lo, hi, r0, r1) {
    var a = Math.log10(Math.max(1, lo)), b = Math.log10(Math.max(lo * 1.0001 + 1, hi));
    var f = linear(a, b, r0, r1);
    var scale = function (v) { return f(Math.log10(Math.max(1, v))); };
    scale.lo = a;
    scale.hi = b;
    return scale;
  }

  /* Ticks of a log scale as [value, label]: powers of ten, and 2 and 5 times them when
   * the scale spans less than two. */
  function logTicks(scale) {
    var out = [], mults = scale.hi - scale.lo < 2 ? [1, 2, 5] : [1];
    for (var k = Math.floor(scale.lo); k <= Math.ceil(scale.hi); k++) {
      mults.forEach(function (m) {
        var e = k + Math.log10(m);
        if (e >= scale.lo - 1e-9 && e <= scale.hi + 1e-9) {
          out.push([m * Math.pow(10, k), m === 1 ? decade(k) : decade(k).replace(/^1/, String(m))]);
        }
      });
    }
    return out;
  }

  /* Limits given on the command line, as [key, opt, ns]. */
  var LIMIT_KEYS = [["p50_ns", "p50"], ["p90_ns", "p90"], ["p95_ns", "p95"], ["p99_ns", "p99"],
                    ["p999_ns", "p99.9"], ["max_ns", "max"]];
  function limitsOf(d) {
    return LIMIT_KEYS.filter(function (k) { return d.limits && k[0] in d.limits; })
      .map(function (k) { return [k[0], k[1], d.limits[k[0]]]; });
  }

  /* ---- the header --------------------------------------------------------------------- */

  function card(k, v, title) {
    return h("div", {class: "card", title: title || null}, h("div", {class: "v"}, v),
             h("div", {class: "k"}, k));
  }

  function renderHeader(d, main) {
    main.appendChild(h("nav", {class: "toc"},
      h("a", {href: "#types"}, "Types"), h("a", {href: "#histograms"}, "Histograms"),
      h("a", {href: "#over-time"}, "Over time"), h("a", {href: "#trees"}, "Slowest trees"),
      h("a", {href: "#slowest"}, "Slowest calls"), h("a", {href: "#inflight"}, "In flight"),
      h("a", {href: "#inputs"}, "Slow inputs")));
    var span = d.selected ? d.last_ns - d.first_ns : 0;
    main.appendChild(h("div", {class: "summary", id: "summary"},
      card("trace files", int(d.files.length + d.files_omitted)),
      card("records", int(d.records)),
      card("actions selected", int(d.selected), int(d.actions) + " actions completed in all"),
      card("action types", int(d.types.length + d.types_omitted)),
      card("time span", d.selected ? dur(span) : "\u2013"),
      card("dropped events", int(d.dropped_events))));
    if (d.selected) {
      main.appendChild(h("p", {id: "time-range"}, "From ", h("b", null, d.first), " to ",
                         h("b", null, d.last), " (first start to last end of the actions shown)."));
    } else {
      main.appendChild(h("div", {class: "banner warn", id: "no-match"},
        "No action matched: check the trace files and the filters."));
    }
    if (d.dropped_events > 0) {
      main.appendChild(h("div", {class: "banner warn", id: "dropped"},
        "The writers dropped " + plural(d.dropped_events, "event") + " (their buffers were " +
        "full or a write failed): actions may be missing and the numbers below undercount."));
    }
    d.files.forEach(function (f) {
      if (f.error) {
        main.appendChild(h("div", {class: "banner warn file-error"}, f.path + ": damaged at byte " +
          int(f.error.offset) + " (" + f.error.reason + "); the records before it are analyzed."));
      }
    });
    if (d.unreadable_inputs > 0) {
      main.appendChild(h("div", {class: "banner warn"}, plural(d.unreadable_inputs, "input") +
        " could not be read (see perfan's messages)."));
    }
    var notes = [];
    if (d.unfinished) notes.push(plural(d.unfinished, "action") + " still running at the end of the input (not counted)");
    if (d.unmatched_ends) notes.push(plural(d.unmatched_ends, "END record") + " without a START (not counted)");
    if (notes.length) main.appendChild(h("p", {class: "note"}, "Note: " + notes.join("; ") + "."));
    if (d.sla) {
      var lims = limitsOf(d).map(function (l) { return l[1] + " \u2264 " + dur(l[2]); }).join(", ");
      main.appendChild(h("div", {class: "banner " + (d.sla.pass ? "pass" : "fail"), id: "sla"},
        d.sla.pass ? "SLA PASS: every action type within " + lims
          : "SLA FAIL: " + (d.types.length ? plural(d.sla.failed_types, "action type") + " over " + lims
                                             : "no action matched"), ""));
    }
    var files = h("ul", {class: "files"});
    d.files.forEach(function (f) {
      files.appendChild(h("li", null, h("code", null, f.path), " \u2014 pid " + f.pid +
        (f.host ? " on " + f.host : "") + ", " + plural(f.records, "record") +
        (f.dropped ? ", " + plural(f.dropped, "dropped event") : "")));
    });
    if (d.files_omitted) files.appendChild(h("li", null, "\u2026 and " + plural(d.files_omitted, "more file")));
    main.appendChild(h("details", null, h("summary", null, "Trace files and command"), files,
                       h("p", null, h("code", {id: "argv"}, d.argv.join(" ")))));
    main.appendChild(h("div", {class: "legend", id: "legend"},
      h("span", null, "Legend:"),
      legendItem("var(--bar)", "calls (bars, dots)"), legendItem("var(--p50)", "p50"),
      legendItem("var(--p95)", "p95"), legendItem("var(--p99)", "p99"),
      legendItem("var(--bad)", "failed / over a limit"),
      legendItem("var(--ok)", "limit met (dashed line)"),
      legendItem("var(--unf)", "unfinished"), legendItem("var(--anchor)", "the slow action of a tree"),
      legendItem("var(--more)", "children summed up (hatched row)"),
      h("span", null, "Hover a bar, dot or row for details.")));
  }

  function legendItem(colour, text) {
    var sw = h("span", {class: "sw"});
    sw.style.background = colour;
    return h("span", null, sw, text);
  }

  /* ---- types -------------------------------------------------------------------------- */

  function verdict(t) {
    if (!t.sla) return "";
    return t.sla.pass ? h("span", {class: "badge pass"}, "PASS")
                      : h("span", {class: "badge fail"}, "FAIL (" + t.sla.failed.join(", ") + ")");
  }

  function renderTypes(d, main) {
    main.appendChild(h("h2", {id: "types"}, "Action types"));
    main.appendChild(h("p", {class: "note"}, "By total time. Percentiles are nearest-rank, within " +
      pct(d.quantile_relative_error) + " (exact below 256 ns); counts, totals and max are exact."));
    var head = h("tr", null, h("th", null, "type"), h("th", {class: "num"}, "calls"),
      h("th", {class: "num"}, "failed"), h("th", {class: "num"}, "total"),
      h("th", {class: "num"}, "p50"), h("th", {class: "num"}, "p95"), h("th", {class: "num"}, "p99"),
      h("th", {class: "num"}, "max"), d.sla ? h("th", null, "SLA") : null);
    var body = h("tbody");
    d.types.forEach(function (t) {
      body.appendChild(h("tr", {class: "type-row", "data-type": t.type},
        h("td", {class: "type"}, h("a", {href: "#hist-" + d.types.indexOf(t)}, t.type)),
        h("td", {class: "num"}, int(t.count)),
        h("td", {class: "num" + (t.failures ? " bad" : "")}, int(t.failures)),
        h("td", {class: "num"}, dur(t.total_ns)), h("td", {class: "num"}, dur(t.p50_ns)),
        h("td", {class: "num"}, dur(t.p95_ns)), h("td", {class: "num"}, dur(t.p99_ns)),
        h("td", {class: "num"}, dur(t.max_ns)), d.sla ? h("td", null, verdict(t)) : null));
    });
    main.appendChild(h("table", {id: "types-table"}, h("thead", null, head), body));
    if (d.types_omitted) {
      main.appendChild(h("p", {class: "note"}, plural(d.types_omitted, "more type") +
        " left out to keep the page small (perfan stats lists them all)."));
    }
  }

  /* ---- histograms --------------------------------------------------------------------- */

  function histogram(d, t, limits) {
    var W = 420, H = 190, L = 46, R = 12, T = 40, B = 28;
    var lo = Infinity, hi = 0, maxc = 0;
    t.hist.forEach(function (b) {
      lo = Math.min(lo, b[0]); hi = Math.max(hi, b[1] + 1); maxc = Math.max(maxc, b[2]);
    });
    limits.forEach(function (l) { lo = Math.min(lo, l[2]); hi = Math.max(hi, l[2]); });
    lo = Math.max(1, lo / 1.15);
    hi = hi * 1.15;
    var x = logScale(lo, hi, L, W - R);
    var ly = Math.log10(1 + maxc);
    var y = function (c) { return H - B - (ly > 0 ? Math.log10(1 + c) / ly : 0) * (H - B - T); };
    var svg = s("svg", {class: "hist-svg", width: W, height: H, viewBox: "0 0 " + W + " " + H,
                        role: "img", "aria-label": "histogram of " + t.type});
    logTicks(x).forEach(function (tk) {
      var px = x(tk[0]);
      svg.appendChild(s("line", {class: "grid-line", x1: px, x2: px, y1: T, y2: H - B}));
      svg.appendChild(s("text", {x: px, y: H - B + 14, "text-anchor": "middle"}, tk[1]));
    });
    svg.appendChild(s("line", {class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B}));
    svg.appendChild(s("line", {class: "axis", x1: L, x2: L, y1: T, y2: H - B},
                      tip("calls, on a log scale")));
    svg.appendChild(s("text", {x: L - 4, y: y(maxc) + 4, "text-anchor": "end"}, int(maxc)));
    svg.appendChild(s("text", {x: L - 4, y: H - B, "text-anchor": "end"}, "0"));
    t.hist.forEach(function (b) {
      var x0 = x(b[0]), x1 = x(b[1] + 1), y0 = y(b[2]);
      svg.appendChild(s("rect", {class: "bar", x: x0.toFixed(2), y: y0.toFixed(2),
        width: Math.max(1, x1 - x0 - 0.6).toFixed(2), height: (H - B - y0).toFixed(2)},
        tip(dur(b[0]) + (b[1] > b[0] ? " \u2013 " + dur(b[1]) : "") + ": " +
            plural(b[2], "call") + " (" + pct(b[2] / t.count) + ")")));
    });
    [["p50", t.p50_ns, 0], ["p95", t.p95_ns, 1], ["p99", t.p99_ns, 2]].forEach(function (m) {
      var px = x(m[1]);
      svg.appendChild(s("line", {class: "marker " + m[0], x1: px, x2: px, y1: T - 2, y2: H - B},
                        tip(m[0] + " = " + dur(m[1]))));
      var right = px > W - 90;
      svg.appendChild(s("text", {class: "marker-label " + m[0], x: right ? px - 3 : px + 3,
        y: T + 9 + 11 * m[2], "text-anchor": right ? "end" : "start"}, m[0] + " " + dur(m[1])));
    });
    limits.forEach(function (l, i) {
      var over = t.sla && t.sla.failed.indexOf(l[1] === "p99.9" ? "p999" : l[1]) >= 0;
      var px = x(l[2]);
      var cls = "limit" + (over ? " over" : "");
      svg.appendChild(s("line", {class: cls, x1: px, x2: px, y1: 4, y2: H - B},
        tip("limit " + l[1] + " \u2264 " + dur(l[2]) + (over ? ": exceeded" : ": met"))));
      var right = px > W - 110;
      svg.appendChild(s("text", {class: cls, x: right ? px - 3 : px + 3, y: 12 + 11 * i,
        "text-anchor": right ? "end" : "start"}, l[1] + " \u2264 " + dur(l[2])));
    });
    return svg;
  }

  function renderHistograms(d, main) {
    main.appendChild(h("h2", {id: "histograms"}, "Latency histograms"));
    main.appendChild(h("p", {class: "note"}, "Durations on a log scale (a bar per quarter of a " +
      "power of two), calls on a log scale; p50, p95 and p99 marked" +
      (d.sla ? ", and the limits given (dashed: green when met, red when exceeded)." : ".")));
    var grid = h("div", {class: "grid"});
    var limits = limitsOf(d);
    d.types.forEach(function (t, i) {
      grid.appendChild(h("figure", {class: "hist", id: "hist-" + i, "data-type": t.type},
        h("figcaption", null, t.type, " ", h("span", {class: "muted"}, plural(t.count, "call") +
          (t.failures ? ", " + int(t.failures) + " failed" : "") + ", max " + dur(t.max_ns)),
          " ", verdict(t)),
        histogram(d, t, limits)));
    });
    main.appendChild(grid);
  }

  /* ---- latency over time ---------------------------------------------------------------- */

  function seriesChart(d, sr, t, limits) {
    var W = 1300, H = 200, L = 56, R = 12, T = 10, B = 50, RATE = 22;
    var S = d.series, span = S.bucket_ns * S.nbuckets;
    var x = linear(0, Math.max(1, span), L, W - R);
    var lo = Infinity, hi = 0;
    sr.points.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
    sr.buckets.forEach(function (b) { lo = Math.min(lo, b[3]); hi = Math.max(hi, b[5]); });
    limits.forEach(function (l) {
      if (l[0] === "p99_ns" || l[0] === "p50_ns") { lo = Math.min(lo, l[2]); hi = Math.max(hi, l[2]); }
    });
    if (!isFinite(lo)) { lo = 1; hi = 10; }
    var y = logScale(Math.max(1, lo / 1.3), hi * 1.3, H - B - RATE - 6, T);
    var svg = s("svg", {class: "series-svg", width: W, height: H, viewBox: "0 0 " + W + " " + H,
                        role: "img", "aria-label": "latency over time of " + sr.type});
    logTicks(y).forEach(function (tk) {
      var py = y(tk[0]);
      svg.appendChild(s("line", {class: "grid-line", x1: L, x2: W - R, y1: py, y2: py}));
      svg.appendChild(s("text", {x: L - 4, y: py + 4, "text-anchor": "end"}, tk[1]));
    });
    var base = H - B;
    svg.appendChild(s("line", {class: "axis", x1: L, x2: W - R, y1: base, y2: base}));
    var ticks = 8, withMs = span < 10e9;
    for (var i = 0; i <= ticks; i++) {
      var off = span * i / ticks, px = x(off);
      svg.appendChild(s("line", {class: "axis", x1: px, x2: px, y1: base, y2: base + 4}));
      svg.appendChild(s("text", {x: px, y: base + 16, "text-anchor": i === 0 ? "start" : i === ticks ? "end" : "middle"},
                        clock(S.origin_ns + off, withMs)));
    }
    /* Calls per bucket: a strip above the axis. */
    var maxn = 0;
    sr.buckets.forEach(function (b) { maxn = Math.max(maxn, b[1]); });
    var bw = Math.max(1, x(S.bucket_ns) - x(0) - 0.5);
    sr.buckets.forEach(function (b) {
      var hgt = Math.max(1, RATE * b[1] / maxn), t0 = S.origin_ns + b[0] * S.bucket_ns;
      svg.appendChild(s("rect", {class: "rate", x: x(b[0] * S.bucket_ns).toFixed(2),
        y: (base - hgt).toFixed(2), width: bw.toFixed(2), height: hgt.toFixed(2)},
        tip(clock(t0, true) + " + " + dur(S.bucket_ns) + ": " + plural(b[1], "call") +
            (b[2] ? " (" + int(b[2]) + " failed)" : "") + ", p50 " + dur(b[3]) + ", p99 " +
            dur(b[4]) + ", max " + dur(b[5]))));
    });
    svg.appendChild(s("text", {x: 4, y: base - 4}, "calls"));
    sr.points.forEach(function (p) {
      svg.appendChild(s("circle", {class: "pt" + (p[2] ? " failed" : ""), cx: x(p[0]).toFixed(1),
        cy: y(p[1]).toFixed(1), r: 2.2},
        tip(dur(p[1]) + (p[2] ? " failed" : "") + " at " + wall(S.origin_ns + p[0]))));
    });
    [["p50", 3], ["p99", 4]].forEach(function (m) {
      var dpath = "", prev = -2;
      sr.buckets.forEach(function (b) {
        var px = x((b[0] + 0.5) * S.bucket_ns).toFixed(1), py = y(b[m[1]]).toFixed(1);
        dpath += (b[0] === prev + 1 ? "L" : "M") + px + " " + py;
        prev = b[0];
      });
      if (dpath) svg.appendChild(s("path", {class: "line " + m[0], d: dpath}, tip(m[0] + " per bucket")));
    });
    limits.forEach(function (l) {
      if (l[0] !== "p99_ns" && l[0] !== "p50_ns") return;
      var py = y(l[2]), over = t && t.sla && t.sla.failed.indexOf(l[1]) >= 0;
      svg.appendChild(s("line", {class: "limit" + (over ? " over" : ""), x1: L, x2: W - R, y1: py, y2: py},
                        tip("limit " + l[1] + " \u2264 " + dur(l[2]))));
    });
    svg.appendChild(s("text", {x: W - R, y: H - 6, "text-anchor": "end"},
                      "local time, buckets of " + dur(S.bucket_ns)));
    return svg;
  }

  function renderSeries(d, main) {
    main.appendChild(h("h2", {id: "over-time"}, "Latency over time"));
    var S = d.series;
    if (!S.types.length) {
      main.appendChild(h("p", {class: "note"}, "No type charted (--types 0, or no action matched)."));
      return;
    }
    var shown = 0, all = 0;
    S.types.forEach(function (sr) { shown += sr.sampled; all += sr.count; });
    main.appendChild(h("p", {class: "note", id: "sample-note"}, "The " + plural(S.types.length, "type") +
      " with the most total time. " + (shown === all ? "Showing all " + plural(all, "call") + " as dots. "
      : "Showing " + int(shown) + " of " + plural(all, "call") + " as dots: per type a uniform " +
        "random sample (fixed seed, so the same traces give the same page) of at most " +
        int(Math.floor(S.points / S.types.length)) + " calls, plus its " + int(S.slow_points) +
        " slowest. ") + "The lines are p50 and p99 per time bucket of " +
      dur(S.bucket_ns) + " (computed over all calls, within " + pct(S.bucket_rel_error) +
      "); the strip at the bottom counts calls per bucket."));
    var byType = {};
    d.types.forEach(function (t) { byType[t.type] = t; });
    var limits = limitsOf(d);
    S.types.forEach(function (sr) {
      var t = byType[sr.type];
      main.appendChild(h("figure", {class: "series", "data-type": sr.type},
        h("figcaption", null, sr.type, " ", h("span", {class: "muted"}, "showing " + int(sr.sampled) +
          " of " + plural(sr.count, "call")), " ", t ? verdict(t) : ""),
        seriesChart(d, sr, t, limits)));
    });
  }

  /* ---- waterfalls ------------------------------------------------------------------------ */

  function sameLevel(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function nodeText(n, t0) {
    var lines = [(n.type === null ? "(START not seen)" : n.type) + "  /" + n.level.join("/")];
    if (n.kind === "message") {
      lines.push("message at +" + dur(n.start_ns - t0));
    } else {
      lines.push(n.status + (n.duration_ns !== null ? ", " + dur(n.duration_ns) : "") +
                 ", starts at +" + dur(Math.max(0, n.start_ns - t0)));
    }
    var inp = fields(n.inputs);
    if (inp) lines.push((n.kind === "message" ? "fields: " : "inputs: ") + inp);
    var out = fields(n.outputs);
    if (out) lines.push("outputs: " + out);
    if (n.exception) lines.push("exception: " + n.exception.type + ": " + n.exception.message);
    lines.push("pid " + n.pid + ", thread " + (n.thread_name !== null ? n.thread_name + " (" + n.thread + ")" : n.thread));
    return lines.join("\n");
  }

  /* A summary row (kind "more"): the children of one action left out by --children. */
  function moreTypes(n, most) {
    var parts = n.types.slice(0, most).map(function (t) {
      return int(t.count) + " \u00d7 " + (t.type === null ? "?" : t.type) + " (" + dur(t.duration_ns) + ")";
    });
    var rest = n.count - n.types.slice(0, most).reduce(function (a, t) { return a + t.count; }, 0);
    if (rest > 0) parts.push(plural(rest, "of another type", "of other types"));
    return parts.join(", ");
  }

  function moreText(n, t0, kids) {
    var lines = ["\u2026 " + plural(n.count, "more child", "more children") + " of the action at /" +
                 n.parent.join("/") + ", not drawn (--children " + kids + " draws the longest " + kids + ")"];
    n.types.forEach(function (t) {
      lines.push(int(t.count) + " \u00d7 " + (t.type === null ? "(START not seen)" : t.type) + ", " +
                 dur(t.duration_ns) + " in all");
    });
    if (n.other_count) lines.push(plural(n.other_count, "of another type", "of other types"));
    lines.push(dur(n.duration_ns) + " in all, from +" + dur(Math.max(0, n.start_ns - t0)) + " to +" +
               dur(Math.max(0, n.end_ns - t0)));
    if (n.descendants) lines.push("and " + plural(n.descendants, "action or message", "actions and messages") + " under them");
    return lines.join("\n");
  }

  function rowDepth(n) { return n.kind === "more" ? n.parent.length + 1 : n.level.length; }

  /* Diagonal strokes filling [x0, x1] x [y0, y1]: the hatching of a summary row's bar. */
  function hatch(x0, x1, y0, y1) {
    var hgt = y1 - y0, d = "";
    for (var s0 = x0 - hgt; s0 < x1; s0 += 5) {
      var lo = Math.max(0, x0 - s0), hi = Math.min(hgt, x1 - s0);
      if (lo < hi) {
        d += "M" + (s0 + lo).toFixed(1) + " " + (y1 - lo).toFixed(1) + "L" + (s0 + hi).toFixed(1) +
             " " + (y1 - hi).toFixed(1);
      }
    }
    return d;
  }

  function waterfall(tree, kids) {
    var nodes = tree.nodes, ROW = 18, LABEL = 330, W = 1300, R = 70, T = 22;
    var t0 = Infinity, t1 = -Infinity;
    nodes.forEach(function (n) {
      t0 = Math.min(t0, n.start_ns);
      t1 = Math.max(t1, n.kind === "more" ? n.end_ns : n.start_ns + (n.duration_ns || 0));
    });
    if (!isFinite(t0)) { t0 = 0; t1 = 1; }
    if (t1 <= t0) t1 = t0 + 1;
    var x = linear(0, t1 - t0, LABEL, W - R);
    var H = T + ROW * nodes.length + 6;
    var svg = s("svg", {class: "wf-svg", width: W, height: H, viewBox: "0 0 " + W + " " + H,
                        role: "img", "aria-label": "waterfall of task " + tree.task});
    for (var i = 0; i <= 6; i++) {
      var off = (t1 - t0) * i / 6, px = x(off);
      svg.appendChild(s("line", {class: "grid-line", x1: px, x2: px, y1: T - 4, y2: H}));
      svg.appendChild(s("text", {x: px, y: T - 8, "text-anchor": i === 0 ? "start" : i === 6 ? "end" : "middle"},
                        "+" + dur(off)));
    }
    var mindepth = Infinity;
    nodes.forEach(function (n) { mindepth = Math.min(mindepth, rowDepth(n)); });
    nodes.forEach(function (n, r) {
      var top = T + r * ROW, depth = rowDepth(n) - mindepth;
      if (n.kind === "more") {
        svg.appendChild(moreRow(n, top, depth, t0, x, kids));
        return;
      }
      var g = s("g", {class: "wf-row " + n.kind + " " + n.status, "data-depth": depth,
                      "data-level": "/" + n.level.join("/")},
                tip(nodeText(n, t0)));
      g.appendChild(s("rect", {class: "wf-hover", x: 0, y: top, width: W, height: ROW}));
      if (sameLevel(n.level, tree.anchor)) {
        g.setAttribute("class", g.getAttribute("class") + " anchor");
        g.appendChild(s("rect", {class: "wf-anchor", x: 0, y: top, width: W, height: ROW}));
      }
      var indent = 4 + Math.min(depth, 16) * 12, room = Math.floor((LABEL - indent - 8) / 6.6);
      var name = n.type === null ? "?" : n.type;
      if (name.length > room) name = name.slice(0, Math.max(1, room - 1)) + "\u2026";
      g.appendChild(s("text", {class: "wf-label", x: indent, y: top + 13}, name));
      var px = x(n.start_ns - t0);
      if (n.kind === "message") {
        var cy = top + ROW / 2;
        g.appendChild(s("path", {class: "wf-msg", d: "M" + px + " " + (cy - 5) + "l5 5l-5 5l-5 -5z"}));
      } else {
        var end = n.duration_ns !== null ? n.start_ns + n.duration_ns : t1;
        var wdt = Math.max(1.5, x(end - t0) - px);
        g.appendChild(s("rect", {class: "wf-bar " + n.status, x: px.toFixed(2), y: top + 3,
                                 width: wdt.toFixed(2), height: ROW - 6, rx: 2}));
        g.appendChild(s("text", {class: "wf-dur", x: (px + wdt + 4).toFixed(2), y: top + 13},
                        n.duration_ns !== null ? dur(n.duration_ns) : n.status));
      }
      svg.appendChild(g);
    });
    return svg;

    /* Grey and italic, its bar hatched from the first child left out to the last. */
    function moreRow(n, top, depth, t0, x, kids) {
      var g = s("g", {class: "wf-row more", "data-depth": depth, "data-parent": "/" + n.parent.join("/"),
                      "data-count": n.count, "data-duration-ns": n.duration_ns},
                tip(moreText(n, t0, kids)));
      g.appendChild(s("rect", {class: "wf-hover", x: 0, y: top, width: W, height: ROW}));
      var indent = 4 + Math.min(depth, 16) * 12;
      g.appendChild(s("text", {class: "wf-label wf-more-label", x: indent, y: top + 13},
                      "\u2026 " + int(n.count) + " more"));
      var x0 = x(n.start_ns - t0), x1 = Math.max(x0 + 1.5, x(n.end_ns - t0));
      g.appendChild(s("rect", {class: "wf-more-bar", x: x0.toFixed(2), y: top + 3,
                               width: (x1 - x0).toFixed(2), height: ROW - 6}));
      g.appendChild(s("path", {class: "wf-hatch", d: hatch(x0, x1, top + 3, top + ROW - 3)}));
      /* The counts by type: after the bar, before it, or over it, where they fit. */
      var text = moreTypes(n, 3), wdt = 6.2 * text.length;
      var tx = x1 + 4 + wdt <= W ? x1 + 4 : x0 - 4 - wdt >= LABEL ? x0 - 4 - wdt : x0 + 4;
      g.appendChild(s("text", {class: "wf-more-text", x: tx.toFixed(2), y: top + 13}, text));
      return g;
    }
  }

  function renderTrees(d, main) {
    main.appendChild(h("h2", {id: "trees"}, "Slowest task trees"));
    if (d.summaries) {
      main.appendChild(h("p", {class: "note"}, "Task trees need the traces' records: " +
        plural(d.summaries, "input") + " of this report " + (d.summaries === 1 ? "is a summary" : "are summaries") +
        " (perfan summarize), whose actions are in every other part of the page but not here."));
    }
    if (!d.trees.length) {
      main.appendChild(h("p", {class: "note"}, d.summaries ? "No tree." : "No tree (--trees 0, or no action matched)."));
      return;
    }
    main.appendChild(h("p", {class: "note"}, (d.trees_of === "roots"
      ? "The tasks of the " + plural(d.trees.length, "slowest top-level action") + ", slowest first."
      : "The tasks of the slowest actions (no top-level action passed the filters), the action highlighted.") +
      " Children are nested under their parents, across threads, processes and files; " +
      "diamonds are messages; grey bars did not finish before the input ended." +
      (d.tree_children ? " Of an action with more than " + plural(d.tree_children, "child", "children") +
        ", the " + (d.tree_children === 1 ? "longest is" : int(d.tree_children) + " longest are") +
        " drawn in their order and the others summed up by type in one grey, hatched row " +
        "spanning from the first of them to the last (--children; perfan tree --children " +
        d.tree_children + " prints the same)." : "")));
    d.trees.forEach(function (tree) {
      var root = null;
      tree.nodes.forEach(function (n) {
        if (!root && n.kind !== "more" && sameLevel(n.level, tree.anchor)) root = n;
      });
      var rows = tree.nodes.filter(function (n) { return n.kind !== "more"; }).length;
      main.appendChild(h("figure", {class: "tree", "data-task": tree.task},
        h("figcaption", null, "task ", h("code", null, tree.task),
          root ? " \u2014 " + (root.type === null ? "?" : root.type) + ", " + root.status +
                 (root.duration_ns !== null ? ", " + dur(root.duration_ns) : "") +
                 ", " + wall(root.start_ns) : "",
          h("span", {class: "muted"}, " (" + plural(rows, "row") +
            (tree.folded ? ", " + int(tree.folded) + " more summed up" : "") + ")")),
        waterfall(tree, d.tree_children),
        tree.omitted ? h("p", {class: "note tree-omitted"}, plural(tree.omitted, "more action or message", "more actions and messages") +
          " of this task not shown (perfan tree --task " + tree.task + " prints them all).") : null));
    });
  }

  /* ---- tables: slowest calls, slow inputs ------------------------------------------------- */

  function renderSlowest(d, main) {
    main.appendChild(h("h2", {id: "slowest"}, "Slowest calls"));
    if (!d.slowest.length) {
      main.appendChild(h("p", {class: "note"}, "No action matched."));
      return;
    }
    main.appendChild(h("p", {class: "note"}, "The " + plural(d.slowest.length, "slowest action") +
      " with their inputs, slowest first (as perfan slowest prints them)."));
    var head = h("tr", null, h("th", {class: "num"}, "#"), h("th", {class: "num"}, "duration"),
      h("th", null, "type"), h("th", null, "start"), h("th", null, "inputs"), h("th", null, "outcome"),
      h("th", {class: "num"}, "self"), h("th", null, "path"), h("th", null, "task"));
    var body = h("tbody");
    d.slowest.forEach(function (c, i) {
      body.appendChild(h("tr", {class: "slow-row", "data-type": c.type},
        h("td", {class: "num"}, i + 1), h("td", {class: "num"}, dur(c.duration_ns)),
        h("td", {class: "type"}, c.type), h("td", {class: "mono"}, wall(c.start_ns)),
        h("td", {class: "fields"}, fields(c.inputs)),
        h("td", {class: c.outcome === "failed" ? "bad" : ""}, c.outcome +
          (c.exception ? ": " + c.exception.type + ": " + c.exception.message : "")),
        h("td", {class: "num", title: plural(c.children, "child", "children") + ", " + dur(c.children_ns)},
          dur(c.self_ns)),
        h("td", {class: "type"}, (c.path_elided ? "\u2026 > " : "") +
          c.path.map(function (p) { return p === null ? "?" : p; }).join(" > ")),
        h("td", {class: "mono"}, c.task)));
    });
    main.appendChild(h("table", {id: "slowest-table"}, h("thead", null, head), body));
    if (d.slowest_omitted) {
      main.appendChild(h("p", {class: "note"}, plural(d.slowest_omitted, "more call") +
        " left out to keep the page small."));
    }
  }

  /* The actions still running when their traces ended: the first question after a crash. */
  function renderInflight(d, main) {
    main.appendChild(h("h2", {id: "inflight"}, "In flight when the traces ended"));
    if (!d.inflight.length) {
      main.appendChild(h("p", {class: "note"}, "No action passing the filters was running when " +
        "its trace ended."));
      return;
    }
    main.appendChild(h("p", {class: "note"}, plural(d.inflight_total, "action") + " still " +
      "running when the traces ended (a crash, kill -9, a hang, or a process still recording), " +
      "longest-running first, as perfan inflight lists them: how long each had been running at " +
      "its process's last sign of life (a lower bound), its inputs and the path from its task's root."));
    var head = h("tr", null, h("th", {class: "num"}, "#"), h("th", {class: "num"}, "running for"),
      h("th", null, "type"), h("th", null, "start"), h("th", null, "inputs"),
      h("th", null, "path"), h("th", null, "task"));
    var body = h("tbody");
    d.inflight.forEach(function (c, i) {
      body.appendChild(h("tr", {class: "inflight-row", "data-type": c.type},
        h("td", {class: "num"}, i + 1), h("td", {class: "num"}, "\u2265 " + dur(c.duration_ns)),
        h("td", {class: "type"}, c.type), h("td", {class: "mono"}, wall(c.start_ns)),
        h("td", {class: "fields"}, fields(c.inputs)),
        h("td", {class: "type"}, (c.path_elided ? "\u2026 > " : "") +
          c.path.map(function (p) { return p === null ? "?" : p; }).join(" > ")),
        h("td", {class: "mono"}, c.task)));
    });
    main.appendChild(h("table", {id: "inflight-table"}, h("thead", null, head), body));
    if (d.inflight_omitted) {
      main.appendChild(h("p", {class: "note"}, plural(d.inflight_omitted, "more action") +
        " left out to keep the page small."));
    }
  }

  function renderInputs(d, main) {
    main.appendChild(h("h2", {id: "inputs"}, "Which inputs make calls slow"));
    if (!d.inputs.length) {
      main.appendChild(h("p", {class: "note"}, "No type ranked (--types 0, or no action matched)."));
      return;
    }
    main.appendChild(h("p", {class: "note"}, "For the types with the most total time, as perfan " +
      "inputs shows: the calls grouped by each argument (strings by value, numbers in " +
      "power-of-two buckets, len(ARG) by length) and by their context ([process], [host], " +
      "[thread], [parent], [root], [outcome]). The tail is the calls slower than the type's " +
      "p95; a group's share is the part of the tail's time over the p95 spent in its calls; " +
      "groupings come in the order of how differently the tail is spread over them."));
    d.inputs.forEach(function (t) {
      var sec = h("section", {class: "input-type", "data-type": t.type});
      sec.appendChild(h("h3", null, t.type, h("span", {class: "muted"}, ": " + plural(t.count, "call") +
        ", p95 " + dur(t.p95_ns) + "; tail: " + plural(t.tail_calls, "call") + " over p95, " +
        dur(t.tail_ns) + " over it in all")));
      if (!t.arguments.length) sec.appendChild(h("p", {class: "note"}, "(no arguments recorded)"));
      t.arguments.forEach(function (a) {
        var body = h("tbody");
        a.groups.forEach(function (g) {
          var bar = h("span", {class: "sharebar"});
          bar.style.width = Math.round(60 * g.tail_share) + "px";
          body.appendChild(h("tr", {class: "input-row"}, h("td", {class: "fields"}, g.group),
            h("td", {class: "num"}, int(g.count)), h("td", {class: "num"}, int(g.tail_calls)),
            h("td", {class: "num"}, bar, pct(g.tail_share)), h("td", {class: "num"}, dur(g.p50_ns)),
            h("td", {class: "num"}, dur(g.p99_ns)), h("td", {class: "num"}, dur(g.max_ns))));
        });
        sec.appendChild(h("table", {class: "inputs-table"},
          h("thead", null, h("tr", null, h("th", null, a.title), h("th", {class: "num"}, "calls"),
            h("th", {class: "num"}, "tail"), h("th", {class: "num"}, "share"),
            h("th", {class: "num"}, "p50"), h("th", {class: "num"}, "p99"), h("th", {class: "num"}, "max"))),
          body));
        var notes = [];
        if (a.groups_total > a.groups.length) notes.push(plural(a.groups_total - a.groups.length, "more group"));
        if (a.calls < t.count) notes.push("absent in " + plural(t.count - a.calls, "call"));
        var byTail = a.folded_calls - (a.capped_calls || 0);
        if (byTail) notes.push("(other): " + plural(byTail, "call") + " of values folded to keep those with the most time over p95");
        if (a.capped_calls) notes.push("(other): " + plural(a.capped_calls, "call") + " with values past the groups kept per type");
        if (notes.length) sec.appendChild(h("p", {class: "note"}, notes.join("; ")));
      });
      if (t.in_every_call && t.in_every_call.length) {
        sec.appendChild(h("p", {class: "note in-every-call"}, "In every call: " +
          t.in_every_call.map(function (c) { return "[" + c.name + "] " + c.value; }).join(", ")));
      }
      if (t.arguments_total > t.arguments.length) {
        sec.appendChild(h("p", {class: "note"}, plural(t.arguments_total - t.arguments.length, "more argument") +
          " (perfan inputs --type '" + t.type + "' shows all)."));
      }
      main.appendChild(sec);
    });
    if (d.inputs_omitted) {
      main.appendChild(h("p", {class: "note"}, plural(d.inputs_omitted, "more type") + " left out to keep the page small."));
    }
  }

  /* ---- drawing ------------------------------------------------------------------------- */

  function draw() {
    var d = JSON.parse(document.getElementById("perfan-data").textContent);
    var main = document.getElementById("report");
    [renderHeader, renderTypes, renderHistograms, renderSeries, renderTrees, renderSlowest,
     renderInflight, renderInputs].forEach(function (part) {
      try {
        part(d, main);
      } catch (e) {
        recordError(part.name + ": " + (e && e.stack ? e.stack : e));
      }
    });
    main.appendChild(h("footer", null, d.generator + ", " + d.generated + ". Percentiles are " +
      "nearest-rank, within " + pct(d.quantile_relative_error) + "; the scatter plots show a sample."));
  }

  try {
    draw();
  } catch (e) {
    recordError("draw: " + (e && e.stack ? e.stack : e));
  }
  document.body.setAttribute("data-rendered", errors.length ? "error" : "ok");
  document.body.appendChild(h("div", {id: "perfan-rendered", hidden: "hidden"}));
})();
