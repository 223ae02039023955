// Draws the dashboard from the data-charts attribute; a click on any figure opens its project list.
(function () {
  const root = document.getElementById("dashboard");
  if (!root || typeof echarts === "undefined") return;
  const data = JSON.parse(root.dataset.charts);

  function draw(id, option, links) {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = echarts.init(el);
    chart.setOption(Object.assign({ tooltip: { trigger: "item" }, animation: false }, option));
    chart.on("click", (params) => {
      const link = links && links[params.dataIndex];
      if (link) window.location.href = link;
    });
    window.addEventListener("resize", () => chart.resize());
  }

  // The grid makes room for the longest name (containLabel): a zone's full name such as
  // "鄂尔多斯高新技术产业开发区" was cut off at a fixed 90px; a very long one wraps onto two lines.
  const bar = (rows, color) => ({
    grid: { left: 8, right: 40, top: 10, bottom: 30, containLabel: true },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: rows.map((r) => r.name), inverse: true,
             axisLabel: { width: 180, overflow: "break", interval: 0 } },
    series: [{ type: "bar", data: rows.map((r) => r.value), itemStyle: { color }, label: { show: true, position: "right" } }],
  });

  draw("chart-funnel", bar(data.funnel, "#0dcaf0"), data.funnel.map((r) => r.link));

  draw("chart-months", {
    tooltip: { trigger: "axis" },
    legend: { data: ["当月签约", "累计", "累计目标"] },
    grid: { left: 70, right: 20, top: 30, bottom: 30 },
    xAxis: { type: "category", data: data.months.labels },
    yAxis: { type: "value" },
    series: [
      { name: "当月签约", type: "bar", data: data.months.amounts.map((m) => m.value) },
      { name: "累计", type: "line", data: data.months.cumulative },
      { name: "累计目标", type: "line", lineStyle: { type: "dashed" }, data: data.months.target },
    ],
  }, data.months.amounts.map((m) => m.link));

  draw("chart-rates", {
    tooltip: { trigger: "axis", valueFormatter: (v) => v + "%" },
    legend: { data: ["实际", "目标"] },
    grid: { left: 50, right: 20, top: 30, bottom: 30 },
    xAxis: { type: "category", data: data.rates.map((r) => r.name) },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: "实际", type: "bar", data: data.rates.map((r) => r.actual), label: { show: true, position: "top", formatter: "{c}%" } },
      { name: "目标", type: "bar", data: data.rates.map((r) => r.target), itemStyle: { color: "#adb5bd" } },
    ],
  }, data.rates.map((r) => r.link));

  draw("chart-chain", bar(data.by_chain, "#198754"), data.by_chain.map((r) => r.link));
  draw("chart-owner", bar(data.by_owner, "#0d6efd"), data.by_owner.map((r) => r.link));
  draw("chart-zone", bar(data.by_zone, "#6f42c1"), data.by_zone.map((r) => r.link));
})();
