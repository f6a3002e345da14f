/* Draws the portal's charts with uPlot (static/vendor/uplot) from data the page carries as
   JSON (Django's json_script). Each element with data-chart names its kind and, in
   data-source, the id of its JSON: {"day": ["2026-11-02", …], <series>: [numbers], …}.
   The page shows the same numbers as text next to each chart. */
(function () {
  "use strict";
  if (typeof uPlot === "undefined") { return; }

  var GREEN = "#2e7d32", BLUE = "#1d4f91", RED = "#c62828", AMBER = "#b26a00";

  function dayStamps(days) {  // "YYYY-MM-DD" → seconds at midnight UTC (labels are read in UTC)
    return days.map(function (d) { return Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 1000; });
  }

  function line(label, color, unit) {
    return {label: label, stroke: color, width: 2, points: {size: 5, fill: color},
            value: function (u, v) { return v == null ? "—" : v + (unit || ""); }};
  }

  var KINDS = {
    records: function (d) {
      return {height: 220, series: [line("Created", GREEN), line("Updated", BLUE), line("Failed", RED)],
              data: [d.created, d.updated, d.failed], yLabel: "records"};
    },
    duration: function (d) {
      return {height: 220, series: [line("Average", BLUE, " s"), line("Longest", AMBER, " s")],
              data: [d.duration_avg, d.duration_max], yLabel: "seconds"};
    },
    calls: function (d) {
      return {height: 70, compact: true, data: [d.calls],
              series: [{label: "API calls", stroke: BLUE, fill: "rgba(29, 79, 145, 0.25)", width: 1,
                        paths: uPlot.paths.bars({size: [0.8, 12]}), points: {show: false}}]};
    }
  };

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    var kind = KINDS[el.getAttribute("data-chart")];
    if (!source || !kind) { return; }
    var raw = JSON.parse(source.textContent);
    var spec = kind(raw);
    var ink = window.getComputedStyle(el).color;
    var grid = {stroke: "rgba(128, 128, 128, 0.2)", width: 1};
    var axes = spec.compact
      ? [{show: false}, {show: false}]
      : [{stroke: ink, grid: grid, ticks: grid},
         {stroke: ink, grid: grid, ticks: grid, label: spec.yLabel, size: 50}];
    var opts = {
      width: Math.max(el.clientWidth, 120), height: spec.height,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      scales: {
        // Bars get half a day on either side, so that the first and the last are whole.
        x: {time: true, range: spec.compact ? function (u, min, max) { return [min - 43200, max + 43200]; } : null},
        y: {range: function (u, min, max) { return [0, Math.max(max || 0, 1) * 1.1]; }}
      },
      legend: {show: !spec.compact},
      cursor: {drag: {x: false, y: false}},
      series: [{label: "Day", value: "{YYYY}-{MM}-{DD}"}].concat(spec.series),
      axes: axes
    };
    var plot = new uPlot(opts, [dayStamps(raw.day)].concat(spec.data), el);
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        var width = Math.max(el.clientWidth, 120);
        if (width !== plot.width) { plot.setSize({width: width, height: spec.height}); }
      }).observe(el);
    }
  }

  document.querySelectorAll("[data-chart]").forEach(draw);
})();
