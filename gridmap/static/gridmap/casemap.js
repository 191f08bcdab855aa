/* gridmap problem list: a map of the listed cases (static/gridmap/casemap.js).
 *
 * Reads `<script type="application/json" id="cases-config">`:
 *   {tiles: {...} | null, cases: [[id, lon, lat, status, overdue], ...], detail: "/problems/0/",
 *    statuses: {code: name}}
 * and draws each case as a dot (red when overdue) linking to its page. Positions are WGS84;
 * over GCJ-02 tiles they are moved with window.gridmapChinaCoords (picker.js, loaded first).
 * No inline script; the page works without it (the table lists the same cases).
 */
(function () {
  "use strict";

  var COLOURS = {reported: "#f57c00", filed: "#fbc02d", dispatched: "#1976d2", handled: "#7b1fa2",
                 closed: "#388e3c", rejected: "#757575", duplicate: "#9e9e9e"};

  function readConfig() {
    var node = document.getElementById("cases-config");
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function init() {
    var config = readConfig();
    var box = document.getElementById("cases-map");
    if (!config || !config.cases || !config.cases.length || !box || !window.L) return;
    box.hidden = false;
    var tiles = config.tiles;
    var gcj = Boolean(tiles && tiles.datum === "gcj02" && window.gridmapChinaCoords);
    function show(lon, lat) {
      var p = gcj ? window.gridmapChinaCoords.toGcj(lon, lat) : [lon, lat];
      return L.latLng(p[1], p[0]);
    }
    var map = L.map(box, {maxZoom: 20, scrollWheelZoom: false});
    if (tiles && tiles.url) {
      L.tileLayer(tiles.url, {maxZoom: tiles.maxZoom || 18, subdomains: tiles.subdomains || "abc",
                              attribution: tiles.attribution || ""}).addTo(map);
    } else {
      box.classList.add("no-tiles");
    }
    var points = config.cases.map(function (c) { return show(c[1], c[2]); });
    map.fitBounds(L.latLngBounds(points), {padding: [16, 16], maxZoom: 17, animate: false});
    config.cases.forEach(function (c, i) {
      var dot = L.circleMarker(points[i], {radius: 6, weight: 2, color: c[4] ? "#d7191c" : "#fff",
                                           fillColor: COLOURS[c[3]] || "#555", fillOpacity: 0.9});
      var link = document.createElement("a");
      link.href = config.detail.replace(/\/0\/$/, "/" + c[0] + "/");
      link.textContent = "#" + c[0] + " " + ((config.statuses || {})[c[3]] || c[3]);
      dot.bindPopup(link);
      dot.addTo(map);
    });
    window.gridmapCases = {map: map, count: config.cases.length, ready: true};
  }

  init();
})();
