/*
 * The charts of the analytics page (templates/admin_analytics.html).
 *
 * The figures are in the page twice: as tables, which are what screen
 * readers and browsers without scripts read, and as JSON in the
 * data-charts attribute of #analytics-charts, which this script draws with
 * Chart.js (served from static/vendor) into each canvas[data-chart]. The
 * canvases are hidden from assistive technology: the table beside each
 * one says the same.
 */
(function () {
  'use strict';

  const root = document.getElementById('analytics-charts');
  if (!root || typeof window.Chart === 'undefined') {
    return;
  }
  let charts;
  try {
    charts = JSON.parse(root.getAttribute('data-charts') || '{}');
  } catch (e) {
    return;
  }
  // Distinguishable in colour and, for lines, in dash pattern.
  const colours = ['#0066cc', '#cc3300', '#008055', '#995c00', '#6b36a3', '#5c6f82', '#b3005a', '#00738a'];
  const dashes = [[], [6, 3], [2, 2], [8, 3, 2, 3]];
  root.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    const spec = charts[canvas.getAttribute('data-chart')];
    if (!spec) {
      return;
    }
    const datasets = spec.datasets.map(function (d, i) {
      const colour = colours[i % colours.length];
      return {
        label: d.label,
        data: d.data,
        borderColor: colour,
        backgroundColor: colour,
        borderDash: spec.kind === 'line' ? dashes[i % dashes.length] : [],
        pointRadius: 0,
        tension: 0.2,
      };
    });
    new window.Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: { y: { beginAtZero: true } },
      },
    });
  });
})();
