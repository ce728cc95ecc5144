// Draws the plotly figures a page embeds as JSON, with every link to plotly.com switched off
// (logo, Chart Studio); without JavaScript the tables beside
// them carry the same figures. The venue screen calls drawCharts again after each update.
(function () {
  "use strict";
  function drawCharts(root) {
    (root || document).querySelectorAll("script.plotly-figure").forEach(function (data) {
      var target = document.getElementById(data.getAttribute("data-target"));
      if (!target || !window.Plotly) return;
      var figure = JSON.parse(data.textContent);
      window.Plotly.newPlot(target, figure.data, figure.layout, { displayModeBar: false, displaylogo: false, showSendToCloud: false, showEditInChartStudio: false, responsive: true, staticPlot: true });
    });
  }
  window.drawCharts = drawCharts;
  drawCharts(document);
})();
