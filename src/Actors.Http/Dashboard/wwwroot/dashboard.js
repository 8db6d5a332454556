// The dashboard's own script: subscribes to the page's server-sent event stream, swaps in the server-rendered
// fragments it sends, and feeds the uPlot charts of the queue page: they open with the node's stored history (embedded
// in the page as JSON; 24 h fetched on demand) and go on with the stream's points, one a second.
(function () {
  'use strict';
  var RANGES = { '1h': 3600, '24h': 86400 };
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];

  function subscribe(url, handlers) {
    var source = new EventSource(url);
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (e) { handlers[name](e.data); });
    });
    window.addEventListener('pagehide', function () { source.close(); });
    return source;
  }

  // The history's columns for one chart: [times, series...] (see HistoryPoint.ToColumnsJson on the server).
  function columns(history, key, labels) {
    var series = history && history[key];
    if (!history || !series) return [[]].concat(labels.map(function () { return []; }));
    return [history.t.slice()].concat(series.map(function (s) { return s.slice(); }));
  }

  function makeChart(el, history) {
    var labels = el.dataset.series.split(',');
    var data = columns(history, el.dataset.chart, labels);
    var opts = {
      title: el.dataset.title,
      width: Math.max(el.clientWidth, 320),
      height: 200,
      scales: { x: { time: true } },
      series: [{}].concat(labels.map(function (label, i) {
        return { label: label, stroke: palette[i % palette.length], width: 2 };
      }))
    };
    el.dataset.points = String(data[0].length);
    return { key: el.dataset.chart, labels: labels, el: el, data: data, plot: new uPlot(opts, data, el) };
  }

  function push(chart, point, window) {
    var values = point[chart.key];
    var t = chart.data[0];
    if (!values || (t.length > 0 && t[t.length - 1] >= point.t)) return;
    t.push(point.t);
    values.forEach(function (v, i) { chart.data[i + 1].push(v); });
    var drop = 0;
    while (drop < t.length && t[drop] < point.t - window) drop++;
    if (drop > 0) chart.data.forEach(function (s) { s.splice(0, drop); });
    chart.el.dataset.points = String(t.length);
    chart.plot.setData(chart.data);
  }

  function reset(chart, history) {
    chart.data = columns(history, chart.key, chart.labels);
    chart.el.dataset.points = String(chart.data[0].length);
    chart.plot.setData(chart.data);
  }

  // The range selector: 1 h is the page's own history, 24 h is fetched from the history endpoint.
  function rangeSelector(el, charts, state) {
    Array.prototype.forEach.call(el.querySelectorAll('button[data-range]'), function (button) {
      button.addEventListener('click', function () {
        var range = button.dataset.range;
        fetch(el.dataset.history + '?range=' + encodeURIComponent(range), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error('history: ' + r.status)); })
          .then(function (history) {
            state.window = RANGES[range] || RANGES['1h'];
            charts.forEach(function (c) { reset(c, history); });
            Array.prototype.forEach.call(el.querySelectorAll('button[data-range]'), function (b) { b.classList.toggle('active', b === button); });
          })
          .catch(function (e) { el.dataset.error = String(e); });
      });
    });
  }

  // The dead-letter list's "select every message on this page" box.
  function pickAll() {
    var all = document.querySelector('table.dead-letters input.pick-all');
    if (!all) return;
    all.addEventListener('change', function () {
      document.querySelectorAll('table.dead-letters input.pick').forEach(function (box) { box.checked = all.checked; });
    });
  }

  function start() {
    pickAll();
    var rows = document.getElementById('queues-body');
    if (rows && rows.dataset.stream) {
      subscribe(rows.dataset.stream, { queues: function (html) { rows.innerHTML = html; } });
    }
    var stats = document.getElementById('queue-stats');
    if (stats && stats.dataset.stream) {
      var embedded = document.getElementById('queue-history');
      var history = embedded ? JSON.parse(embedded.textContent) : null;
      var state = { window: RANGES['1h'] };
      var charts = Array.prototype.map.call(document.querySelectorAll('.chart[data-chart]'), function (el) { return makeChart(el, history); });
      var selector = document.querySelector('.range[data-history]');
      if (selector) rangeSelector(selector, charts, state);
      window.addEventListener('resize', function () {
        charts.forEach(function (c) { c.plot.setSize({ width: Math.max(c.plot.root.parentElement.clientWidth, 320), height: 200 }); });
      });
      subscribe(stats.dataset.stream, {
        stats: function (html) { stats.innerHTML = html; },
        point: function (json) {
          var point = JSON.parse(json);
          charts.forEach(function (c) { push(c, point, state.window); });
        }
      });
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
