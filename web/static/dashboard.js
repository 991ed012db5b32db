// Charts of the leaders' dashboard (Apache ECharts, vendored). The numbers
// come from the page's JSON block (#dash-data); every chart's numbers are
// also in the table next to it, so the page reads and prints without this.
(function () {
  'use strict';

  function option(c) {
    var unit = c.unit || '';
    var fmt = function (v) { return v == null ? '无数据' : v + unit; };
    if (c.kind === 'pie') {
      return {
        tooltip: { trigger: 'item', valueFormatter: fmt },
        legend: { bottom: 0, type: 'scroll' },
        series: [{ type: 'pie', radius: ['35%', '65%'], center: ['50%', '45%'],
          label: { formatter: '{b}\n{c}' },
          data: c.labels.map(function (l, i) { return { name: l, value: c.series[0].data[i] }; }) }]
      };
    }
    var many = c.labels.length > 6;
    return {
      tooltip: { trigger: 'axis', valueFormatter: fmt },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: c.labels, axisLabel: { rotate: many ? 35 : 0, interval: 0, hideOverlap: true } },
      yAxis: unit === '%' ? { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } } : { type: 'value', minInterval: 1 },
      series: c.series.map(function (s) {
        return { name: s.name, type: c.kind, data: s.data, connectNulls: true, showSymbol: true,
          label: { show: c.kind === 'bar' && c.labels.length <= 12, position: 'top', formatter: function (p) { return fmt(p.value); } } };
      })
    };
  }

  function init() {
    var el = document.getElementById('dash-data');
    if (!el || !window.echarts) return;
    var data = JSON.parse(el.textContent);
    var charts = [];
    document.querySelectorAll('[data-chart]').forEach(function (box) {
      var c = data[box.getAttribute('data-chart')];
      if (!c || !c.labels || c.labels.length === 0) { box.hidden = true; return; }
      var chart = window.echarts.init(box);
      chart.setOption(option(c));
      box.setAttribute('data-ready', '1');
      charts.push(chart);
    });
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
