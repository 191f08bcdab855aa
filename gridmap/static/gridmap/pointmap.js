/* gridmap point maps: the positive list (正面清单) and the public map of reports.
 *
 * Plain script on the vendored Leaflet, settings from <script type="application/json"
 * id="point-config">: {center: [lon, lat], kind: "positive" | "public" | "unwalked" | "failures", streets:
 * FeatureCollection (our own centrelines: no tiles needed), points: FeatureCollection}. A
 * positive site's popup shows its name and photo (the scoped photo URL); a public report's its
 * category, status and day. Every text is set as text, never as markup.
 */
(function () {
  "use strict";

  var STATUS_COLORS = {reported: "#d7191c", filed: "#f46d43", dispatched: "#fdae61", handled: "#66bd63",
    closed: "#1a9850"};

  function readConfig() {
    var node = document.getElementById("point-config");
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function popup(kind, p) {
    var box = document.createElement("div");
    box.className = "point-popup";
    var title = document.createElement("strong");
    title.textContent = kind === "public" ? p.category : p.name;
    box.appendChild(title);
    if (kind === "positive" && p.photo) {
      var img = document.createElement("img");
      img.src = p.photo;
      img.alt = p.name;
      img.loading = "lazy";
      box.appendChild(img);
    }
    if (kind === "unwalked" || kind === "failures") {
      var walked = document.createElement("div");
      walked.textContent = p.label;
      box.appendChild(walked);
    }
    if (kind === "public") {
      var line = document.createElement("div");
      line.textContent = p.status_label + " · " + p.day;
      box.appendChild(line);
    }
    return box;
  }

  function init() {
    var config = readConfig();
    var box = document.getElementById("point-map");
    if (!config || !box || !window.L) return;
    box.hidden = false;
    var map = L.map(box, {maxZoom: 19});
    map.getContainer().classList.add("no-tiles");
    var streets = L.geoJSON(config.streets || null, {style: {color: "#9e9e9e", weight: 3, opacity: 0.8},
      interactive: false});
    var points = L.geoJSON(config.points || null, {
      style: function (feature) {  // areas: the grids not walked lately (red) and the others
        if (feature.geometry && feature.geometry.type === "Point") return {};  // points: pointToLayer's
        var late = (feature.properties || {}).late;
        return {color: late ? "#b2182b" : "#1a9850", weight: 2, fillOpacity: late ? 0.35 : 0.1};
      },
      pointToLayer: function (feature, latlng) {
        var p = feature.properties || {};
        var color = config.kind === "positive" ? "#2e7d32" :
          config.kind === "unwalked" ? (p.late ? "#b2182b" : "#1a9850") :
          config.kind === "failures" ? ({open: "#b2182b", fixed: "#f4a300", passed: "#1a9850"}[p.state] || "#878787") :
          (STATUS_COLORS[p.status] || "#878787");
        return L.circleMarker(latlng, {radius: 7, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.95});
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(popup(config.kind, feature.properties || {}), {minWidth: 200, maxWidth: 280});
      }
    });
    var bounds = points.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, {padding: [16, 16], maxZoom: 17, animate: false});
    } else {
      map.setView([config.center[1], config.center[0]], 15, {animate: false});
    }
    streets.addTo(map);
    points.addTo(map);
    window.gridmapPointMap = {map: map, points: points, ready: true};
  }

  init();
})();
