// The chain map (产业链图): an ECharts graph laid out on the server (chains/layout.py: columns
// left to right by tier, the order within a column chosen to cross as few arrows as possible, one
// label height per row), drawn as 全景图 (every segment, by tier) or 现状图 (强/弱/缺, sized by
// local output, 链主 marked). Clicking a segment, or choosing it under 聚焦环节 (or ?focus=CODE),
// focuses it: its suppliers and buyers stay bright, the rest fades, and its panel opens.
// 导出PNG saves the chart.
//
// No inline script or style anywhere (CSP): data comes from data-* attributes and JSON, and every
// text from the server is put into the page with textContent, never innerHTML. Tooltips are drawn
// on the canvas (renderMode "richText"), so no server text is ever parsed as HTML there either.
(function () {
  "use strict";

  var root = document.getElementById("chain-map");
  if (!root || typeof window.echarts === "undefined") {
    return;
  }
  var echarts = window.echarts;

  var TIER_COLORS = { "上游": "#0d6efd", "中游": "#20c997", "下游": "#6f42c1" };
  var STATUS_STYLE = {
    strong: { color: "#198754", borderColor: "#0f5132", borderType: "solid" },
    weak: { color: "#f0ad00", borderColor: "#9a6b00", borderType: "solid" },
    missing: { color: "#ffffff", borderColor: "#dc3545", borderType: "dashed" },
  };
  var EXTERNAL_STYLE = { color: "#f1f3f5", borderColor: "#adb5bd", borderType: "dashed" };
  var MODE_LABELS = { panorama: "全景图", status: "现状图" };
  var STAGES = ["线索", "接洽", "考察", "洽谈"];

  var panel = document.getElementById("segment-panel");
  var message = document.querySelector("[data-map-message]");
  var focusSelect = document.querySelector("[data-map-focus]");
  var focusSummary = document.querySelector("[data-map-focus-summary]");
  var MARGIN = { left: 50, right: 90, top: 70, bottom: 40, header: 45 };
  var COLUMN_PX = 92; // narrowest column: a label of up to two lines of ~7 characters
  var state = { mode: "panorama", data: null, selected: null, request: 0, byCode: {} };
  var chart = echarts.init(root, null, { renderer: "canvas" });

  // --- small DOM helpers (text only) -------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function link(text, href) {
    var a = el("a", null, text);
    if (typeof href === "string" && href.charAt(0) === "/" && href.charAt(1) !== "/") a.href = href;
    return a;
  }

  function badge(text, className) {
    return el("span", "badge " + className, text);
  }

  function addBadge(parent, text, className) {
    parent.appendChild(document.createTextNode(" "));
    parent.appendChild(badge(text, className));
  }

  function money(value) {
    if (value === null || value === undefined) return "—";
    return Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 0 });
  }

  function showMessage(text) {
    if (!message) return;
    message.textContent = text;
    message.classList.toggle("d-none", !text);
  }

  // --- the chart ---------------------------------------------------------------------------

  function labelOf(node) {
    var star = state.mode === "status" && node.leader ? "★" : "";
    return star + node.name;
  }

  function itemStyle(node) {
    var style;
    if (node.external) {
      style = EXTERNAL_STYLE;
    } else if (state.mode === "status") {
      style = STATUS_STYLE[node.status] || STATUS_STYLE.missing;
    } else {
      var color = TIER_COLORS[node.tier] || "#6c757d";
      style = { color: color, borderColor: color, borderType: "solid" };
    }
    var selected = node.code === state.selected;
    var leader = state.mode === "status" && node.leader;
    var faded = state.selected && !inFocus(node.code);
    return {
      color: style.color,
      borderColor: selected ? "#000000" : leader ? "#d4a106" : style.borderColor,
      borderType: selected ? "solid" : style.borderType,
      borderWidth: selected ? 3 : leader ? 3 : 1.5,
      opacity: faded ? 0.18 : node.external ? 0.85 : 1,
    };
  }

  function symbolSize(node) {
    if (node.external) return 16;
    if (state.mode === "status") return node.count > 0 ? node.size : node.partial > 0 ? 18 : 14;
    return 22;
  }

  function tooltipText(node) {
    var lines = [node.name + "（" + node.code + "）", node.tier + " · 价值层级 " + node.value_add + "/5"];
    if (node.external) {
      lines.push("其他产业链：" + (node.chain_name || node.chain));
    } else {
      var status = "现状：" + node.status_label;
      if (node.action) status += " · 建议" + node.action;
      if (node.priority !== null && node.priority !== undefined) status += " · 优先级 " + node.priority.toFixed(1);
      lines.push(status);
    }
    lines.push("本地企业 " + node.count + " 家（规上 " + node.above_scale + "）· 产值 " + money(node.output) + " 万元");
    if (node.partial) lines.push("签约/在建项目 " + node.partial + " 个");
    if (node.leader) lines.push("★ 有链主企业");
    if (node.zones && node.zones.length) {
      lines.push("分布：" + node.zones.map(function (z) { return z.zone + " " + z.count; }).join("、"));
    }
    return lines.join("\n");
  }

  // --- focus: the selected segment with its suppliers and buyers ----------------------------

  function inFocus(code) {
    var focus = state.byCode[state.selected];
    if (!focus) return true;
    return code === focus.code || focus.suppliers.indexOf(code) >= 0 || focus.buyers.indexOf(code) >= 0;
  }

  function edgeStyle(edge) {
    var style = edge.external ? { type: "dashed", color: "#ced4da" } : {};
    if (!state.selected) return style;
    if (edge.target === state.selected) return { color: "#0d6efd", width: 2.6, opacity: 1, type: style.type };
    if (edge.source === state.selected) return { color: "#d63384", width: 2.6, opacity: 1, type: style.type };
    return { color: style.color, type: style.type, opacity: 0.08 };
  }

  function names(codes) {
    return codes.map(function (code) { return state.byCode[code] ? state.byCode[code].name : code; }).join("、") || "无";
  }

  function showFocus() {
    var focus = state.byCode[state.selected];
    root.dataset.focus = focus ? focus.code : "";
    if (focusSelect) focusSelect.value = focus ? focus.code : "";
    if (!focusSummary) return;
    focusSummary.classList.toggle("d-none", !focus);
    if (!focus) { focusSummary.replaceChildren(); return; }
    var title = el("strong", null, "聚焦：" + focus.name);
    var suppliers = el("span", "focus-suppliers", "供应方（蓝色箭头）：" + names(focus.suppliers));
    suppliers.setAttribute("data-testid", "focus-suppliers");
    var buyers = el("span", "focus-buyers", "采购方（红色箭头）：" + names(focus.buyers));
    buyers.setAttribute("data-testid", "focus-buyers");
    var clear = el("button", "btn btn-link btn-sm p-0 ms-2", "取消聚焦");
    clear.type = "button";
    clear.addEventListener("click", function () { setFocus(null); });
    focusSummary.replaceChildren(title, document.createTextNode(" · "), suppliers,
                                 document.createTextNode(" · "), buyers, clear);
  }

  function setFocus(code, openDetails) {
    state.selected = code && state.byCode[code] ? code : null;
    showFocus();
    render();
    if (state.selected && openDetails !== false) openPanel(state.selected);
  }

  // The server lays x out on a 1000-wide canvas and y in pixels (one label height per row);
  // stretching x to the chart's own width keeps ECharts at scale 1, so rows stay label-high.
  // A chain with many columns gets a wider chart than its card (the card scrolls sideways), so
  // neighbouring columns' labels never overlap either.
  function columnPitch() {
    var columns = Math.max((state.data && state.data.columns) || 1, 2) - 1;
    return innerWidth() / columns;
  }

  function innerWidth() {
    var columns = Math.max((state.data && state.data.columns) || 1, 2) - 1;
    var available = (root.parentElement ? root.parentElement.clientWidth : root.clientWidth) - MARGIN.left - MARGIN.right;
    return Math.max(available, columns * COLUMN_PX, 300);
  }

  function fitSize() {
    var height = Math.max((state.data.height || 0) + MARGIN.header + MARGIN.top + MARGIN.bottom, 420);
    var width = innerWidth() + MARGIN.left + MARGIN.right;
    var available = root.parentElement ? root.parentElement.clientWidth : width;
    var cssWidth = width > available + 1 ? width + "px" : "";
    if (root.clientHeight !== height || root.style.width !== cssWidth) {
      root.style.height = height + "px";
      root.style.width = cssWidth;
      chart.resize();
    }
  }

  function tierHeaders(nodes) {
    // A label above each tier's columns; these pseudo-nodes are not segments (ids start "__").
    var ranges = {};
    nodes.forEach(function (node) {
      if (node.external) return;
      var range = ranges[node.tier] || (ranges[node.tier] = { min: node.x, max: node.x });
      range.min = Math.min(range.min, node.x);
      range.max = Math.max(range.max, node.x);
    });
    return (state.data.tiers || []).filter(function (tier) { return ranges[tier]; }).map(function (tier) {
      return {
        name: "__tier_" + tier,
        x: (ranges[tier].min + ranges[tier].max) / 2 * innerWidth() / 1000,
        y: -MARGIN.header,
        symbol: "rect",
        symbolSize: 1,
        itemStyle: { color: "rgba(0,0,0,0)", borderWidth: 0 },
        label: { show: true, position: "inside", fontSize: 14, fontWeight: "bold", color: TIER_COLORS[tier] || "#333" },
        tooltip: { show: false },
        blur: { label: { opacity: 1 } },
        labelText: tier,
        isHeader: true,
      };
    });
  }

  function option() {
    var data = state.data;
    var items = data.nodes.map(function (node) {
      return {
        name: node.code,
        x: node.x * innerWidth() / 1000,
        y: node.y,
        value: node.priority,
        symbolSize: symbolSize(node),
        itemStyle: itemStyle(node),
        label: state.selected && !inFocus(node.code) ? { color: "#ced4da" } : undefined,
        labelText: labelOf(node),
        tooltipText: tooltipText(node),
      };
    }).concat(tierHeaders(data.nodes));
    var links = data.edges.map(function (edge) {
      return {
        source: edge.source,
        target: edge.target,
        lineStyle: edgeStyle(edge),
      };
    });
    return {
      animation: false,
      title: {
        text: (root.dataset.chainName || "") + " · " + MODE_LABELS[state.mode],
        subtext: (root.dataset.scope || "") + " · 数据日期 " + (root.dataset.date || ""),
        left: 10,
        top: 6,
        textStyle: { fontSize: 15 },
        subtextStyle: { fontSize: 12, color: "#666" },
      },
      tooltip: {
        renderMode: "richText",
        confine: true,
        formatter: function (params) {
          return params.dataType === "node" && params.data && params.data.tooltipText ? params.data.tooltipText : "";
        },
      },
      series: [{
        type: "graph",
        layout: "none",
        roam: true,
        left: MARGIN.left,
        right: MARGIN.right,
        top: MARGIN.top,
        bottom: MARGIN.bottom,
        data: items,
        links: links,
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: [0, 7],
        lineStyle: { color: "#adb5bd", width: 1.2, curveness: 0.12, opacity: 0.85 },
        label: {
          show: true,
          position: "bottom",
          distance: 3,
          fontSize: 11,
          color: "#212529",
          width: Math.max(columnPitch() - 8, 40),
          overflow: "break",
          lineHeight: 13,
          formatter: function (params) { return params.data.labelText; },
        },
        emphasis: { focus: "adjacency", lineStyle: { width: 2.5, color: "#495057" } },
      }],
    };
  }

  function render() {
    if (!state.data) return;
    fitSize();
    chart.setOption(option(), true);
  }

  function load() {
    fetch(root.dataset.graphUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        state.data = data;
        state.byCode = {};
        data.nodes.forEach(function (node) { state.byCode[node.code] = node; });
        showMessage(data.nodes.length ? "" : "该产业链还没有环节。");
        var asked = new URLSearchParams(window.location.search).get("focus");
        if (asked && state.byCode[asked]) {
          setFocus(asked);
        } else {
          render();
        }
      })
      .catch(function () { showMessage("产业链图加载失败，请刷新页面重试。"); });
  }

  // --- mode, export, resize ------------------------------------------------------------------

  function setMode(mode) {
    state.mode = mode;
    document.querySelectorAll("[data-map-mode]").forEach(function (button) {
      var active = button.dataset.mapMode === mode;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    });
    document.querySelectorAll("[data-legend]").forEach(function (legend) {
      legend.classList.toggle("d-none", legend.dataset.legend !== mode);
    });
    render();
  }

  document.querySelectorAll("[data-map-mode]").forEach(function (button) {
    button.addEventListener("click", function () { setMode(button.dataset.mapMode); });
  });

  var exportButton = document.querySelector("[data-map-export]");
  if (exportButton) {
    exportButton.addEventListener("click", function () {
      if (!state.data) return;
      var url = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#ffffff" });
      var a = document.createElement("a");
      a.href = url;
      a.download = (root.dataset.exportName || "chain") + "-" + MODE_LABELS[state.mode] + ".png";
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  }

  window.addEventListener("resize", function () { chart.resize(); render(); });

  if (focusSelect) {
    focusSelect.addEventListener("change", function () { setFocus(focusSelect.value || null); });
  }

  // --- the segment panel ------------------------------------------------------------------

  chart.on("click", function (params) {
    if (params.dataType !== "node" || !params.data || params.data.isHeader) return;
    setFocus(params.data.name);
  });

  function openPanel(code) {
    var request = ++state.request;
    var url = root.dataset.panelUrl.replace("__SEG__", encodeURIComponent(code));
    panel.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) { if (request === state.request) renderPanel(data); })
      .catch(function () {
        if (request !== state.request) return;
        replacePanel([el("p", "text-danger mb-0", "环节详情加载失败，请重试。")]);
      })
      .then(function () { panel.removeAttribute("aria-busy"); });
  }

  function replacePanel(children) {
    var body = el("div", "card-body");
    children.forEach(function (child) { if (child) body.appendChild(child); });
    panel.replaceChildren(body);
  }

  function section(title, items, empty) {
    var wrapper = el("div");
    wrapper.appendChild(el("h3", null, title));
    if (!items.length) {
      wrapper.appendChild(el("p", "small text-muted mb-1", empty));
      return wrapper;
    }
    var list = el("ul", "small");
    items.forEach(function (item) { list.appendChild(item); });
    wrapper.appendChild(list);
    return wrapper;
  }

  function renderPanel(d) {
    var parts = [];
    var title = el("h2", null, d.name + " ");
    if (d.gap) {
      title.appendChild(badge(d.gap.status_label, "status-badge status-" + d.gap.status));
    } else if (d.external) {
      title.appendChild(badge("其他产业链", "status-badge status-external"));
    }
    title.setAttribute("data-testid", "panel-title");
    parts.push(title);

    var meta = el("div", "small text-muted", d.code + " · " + d.tier + " · 价值层级 " + d.value_add + "/5 · " + d.scope);
    parts.push(meta);
    if (d.products && d.products.length) parts.push(el("div", "small", "主要产品：" + d.products.join("、")));
    if (d.external) {
      var other = el("div", "small mt-1", "属于“" + (d.chain_name || d.chain) + "”产业链，");
      if (d.chain_url) other.appendChild(link("查看该产业链图", d.chain_url));
      parts.push(other);
    }

    if (d.gap) {
      var gap = el("div", "mt-2");
      gap.setAttribute("data-testid", "panel-gap");
      gap.appendChild(el("div", null,
        "现状：" + d.gap.status_label + " · 建议：" + (d.gap.action || "无需专项行动") +
        " · 优先级 " + d.gap.priority.toFixed(1)));
      var reasons = el("ul", "small mt-1");
      d.gap.reasons.forEach(function (reason) { reasons.appendChild(el("li", null, reason)); });
      gap.appendChild(reasons);
      if (d.gap.priority > 0) {
        var grid = el("div", "contrib");
        Object.keys(d.term_labels).forEach(function (key) {
          var points = d.gap.contributions[key] || 0;
          grid.appendChild(el("span", null, d.term_labels[key]));
          var meter = document.createElement("meter");
          meter.min = 0;
          meter.max = Math.max(d.gap.priority, 1);
          meter.value = points;
          grid.appendChild(meter);
          grid.appendChild(el("span", null, points.toFixed(1) + " 分"));
        });
        gap.appendChild(grid);
      }
      parts.push(gap);
    }

    var p = d.presence;
    var presence = "本地企业 " + p.count + " 家（规上 " + p.above_scale + "）· 产值 " + money(p.output) + " 万元";
    if (p.partial) presence += " · 签约/在建项目 " + p.partial + " 个";
    parts.push(el("div", "small mt-2", presence));

    parts.push(section("本地企业（" + d.local_total + " 家）", d.local.map(function (firm) {
      var li = el("li");
      li.appendChild(link(firm.name, firm.url));
      if (firm.leader) addBadge(li, "链主", "bg-warning text-dark");
      if (firm.above_scale) addBadge(li, "规上", "bg-secondary");
      li.appendChild(el("span", "text-muted", " " + (firm.zone ? firm.zone + " · " : "") + "营收 " + money(firm.revenue) + " 万元"));
      return li;
    }), "本地暂无企业"));

    if (d.zones) {
      parts.push(section("全市分布", d.zones.map(function (z) {
        return el("li", null, z.zone + "：" + z.count + " 家");
      }), "全市各园区均无该环节企业"));
    }

    parts.push(section("招商目标", d.targets.map(function (t) {
      var li = el("li");
      li.appendChild(link(t.name, t.url));
      if (t.leader) addBadge(li, "链主", "bg-warning text-dark");
      if (t.above_scale) addBadge(li, "规上", "bg-secondary");
      var detail = " " + t.place + (t.tags.length ? " · " + t.tags.join("、") : "") + " · 营收 " + money(t.revenue) + " 万元";
      detail += " · 已有项目 " + t.projects + "、走访 " + t.visits + (t.last_visit ? "（最近 " + t.last_visit + "）" : "");
      li.appendChild(el("span", "text-muted", detail));
      return li;
    }), "企业库中暂无关联该环节的外地企业"));

    var leads = STAGES.map(function (s) { return s + " " + (d.pipeline[s] || 0); }).join(" · ");
    var projects = section("在办项目", d.projects.map(function (project) {
      var li = el("li");
      li.appendChild(project.url ? link(project.name, project.url) : el("span", "text-muted", project.name));
      li.appendChild(el("span", "text-muted", " " + project.stage + " · " + project.zone +
                                               (project.enterprise ? " · " + project.enterprise : "")));
      return li;
    }), "暂无关联该环节的在办项目");
    projects.appendChild(el("div", "small text-muted", "在谈线索：" + leads));
    parts.push(projects);

    var actions = el("div", "mt-3 d-flex flex-wrap gap-2");
    if (d.library_url) {
      var library = link("企业库中该环节的企业", d.library_url);
      library.className = "btn btn-sm btn-outline-primary";
      actions.appendChild(library);
    }
    if (d.edit_url) {
      var edit = link("编辑环节", d.edit_url);
      edit.className = "btn btn-sm btn-outline-secondary";
      actions.appendChild(edit);
    }
    parts.push(actions);
    replacePanel(parts);
  }

  load();
})();
