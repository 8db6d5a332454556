// The dashboard's own script: subscribes to the page's server-sent event stream, swaps in the server-rendered
// fragments it sends, and feeds the uPlot charts of the queue page (the last hour, one point a second).
(function () {
  'use strict';
  var HOUR = 3600;
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];

  function subscribe(url, handlers) {
    var source = new EventSource(url);
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (e) { handlers[name](e.data); });
    });
    window.addEventListener('pagehide', function () { source.close(); });
    return source;
  }

  function makeChart(el) {
    var labels = el.dataset.series.split(',');
    var data = [[]].concat(labels.map(function () { return []; }));
    var opts = {
      title: el.dataset.title,
      width: Math.max(el.clientWidth, 320),
      height: 200,
      scales: { x: { time: true } },
      series: [{}].concat(labels.map(function (label, i) {
        return { label: label, stroke: palette[i % palette.length], width: 2 };
      }))
    };
    return { key: el.dataset.chart, data: data, plot: new uPlot(opts, data, el) };
  }

  function push(chart, point) {
    var values = point[chart.key];
    if (!values) return;
    chart.data[0].push(point.t);
    values.forEach(function (v, i) { chart.data[i + 1].push(v); });
    if (chart.data[0].length > HOUR) chart.data.forEach(function (s) { s.shift(); });
    chart.plot.setData(chart.data);
  }

  function start() {
    var rows = document.getElementById('queues-body');
    if (rows && rows.dataset.stream) {
      subscribe(rows.dataset.stream, { queues: function (html) { rows.innerHTML = html; } });
    }
    var stats = document.getElementById('queue-stats');
    if (stats && stats.dataset.stream) {
      var charts = Array.prototype.map.call(document.querySelectorAll('.chart[data-chart]'), makeChart);
      window.addEventListener('resize', function () {
        charts.forEach(function (c) { c.plot.setSize({ width: Math.max(c.plot.root.parentElement.clientWidth, 320), height: 200 }); });
      });
      subscribe(stats.dataset.stream, {
        stats: function (html) { stats.innerHTML = html; },
        point: function (json) {
          var point = JSON.parse(json);
          charts.forEach(function (c) { push(c, point); });
        }
      });
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
