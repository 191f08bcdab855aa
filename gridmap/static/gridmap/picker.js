/* gridmap problem pages: the report form's map picker and a problem's location map.
 *
 * Plain script on the vendored Leaflet (static/vendor/leaflet-1.9.4), loaded with `defer`; no
 * inline script and no framework (CSP-friendly). Each page puts its settings in a JSON block
 * (`<script type="application/json" id="picker-config">` or `id="location-config"`):
 *   picker:   {center: [lon, lat], grids: FeatureCollection (the user's grids, or every grid
 *              for a user who sees none), streets: FeatureCollection (only with no tiles: a
 *              reference, named on the map), tiles: {url, attribution, maxZoom, subdomains} | null}
 * Grid codes and street names are written on the picker from zoom 16 on (placeLabels).
 *   location: {center: [lon, lat], grid: GeoJSON geometry | null, tiles: ... | null}
 * With no tiles the map shows its layers on a plain background. The forms work without script:
 * the picker only reads and writes the longitude and latitude fields (6 decimals, about 0.1 m).
 * A file input marked `data-exif-place` (the fix form's after-photo) sets the fields from the first
 * chosen photo carrying a GPS position (read with the vendored exifr), and so moves the marker.
 * The picker exposes `window.gridmapPicker` ({map, grids, marker(), place(lon, lat)}) for tests.
 *
 * Fields and stored data are WGS84. Over GCJ-02 tiles (tiles.datum "gcj02": AMap/Gaode, Tencent)
 * everything drawn is moved to GCJ-02 and a clicked or dragged place is moved back: the formulas
 * of layers/chinacoords.py (window.gridmapChinaCoords; a browser test holds them equal).
 */
(function () {
  "use strict";

  var GRID_STYLE = {color: "#c2185b", weight: 2, fill: true, fillOpacity: 0.04, dashArray: "6 4"};
  var STREET_STYLE = {color: "#9e9e9e", weight: 3, opacity: 0.8};

  // --- WGS84 <-> GCJ-02, as layers/chinacoords.py (display only) -----------------------------
  var KRASOVSKY_A_M = 6378245.0, KRASOVSKY_EE = 0.00669342162296594323;
  var CHINA_LON = [72.004, 137.8347], CHINA_LAT = [0.8293, 55.8271];

  function inChina(lon, lat) {
    return lon >= CHINA_LON[0] && lon <= CHINA_LON[1] && lat >= CHINA_LAT[0] && lat <= CHINA_LAT[1];
  }

  function offsetDeg(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, xpi = x * Math.PI, ypi = y * Math.PI;
    var common = 20.0 * Math.sin(6.0 * xpi) + 20.0 * Math.sin(2.0 * xpi);
    var dlatM = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) +
      (common + 20.0 * Math.sin(ypi) + 40.0 * Math.sin(ypi / 3.0) + 160.0 * Math.sin(ypi / 12.0) +
       320.0 * Math.sin(ypi / 30.0)) * 2.0 / 3.0;
    var dlonM = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) +
      (common + 20.0 * Math.sin(xpi) + 40.0 * Math.sin(xpi / 3.0) + 150.0 * Math.sin(xpi / 12.0) +
       300.0 * Math.sin(xpi / 30.0)) * 2.0 / 3.0;
    var radLat = lat * Math.PI / 180.0;
    var magic = 1.0 - KRASOVSKY_EE * Math.sin(radLat) * Math.sin(radLat);
    var latDegM = KRASOVSKY_A_M * (1.0 - KRASOVSKY_EE) / (magic * Math.sqrt(magic)) * Math.PI / 180.0;
    var lonDegM = KRASOVSKY_A_M * Math.cos(radLat) / Math.sqrt(magic) * Math.PI / 180.0;
    return [dlonM / lonDegM, dlatM / latDegM];
  }

  function toGcj(lon, lat) {
    if (!inChina(lon, lat)) return [lon, lat];
    var d = offsetDeg(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  function toWgs(lon, lat) {  // fixed-point iteration, as gcj02_to_wgs84
    if (!inChina(lon, lat)) return [lon, lat];
    var wlon = lon, wlat = lat;
    for (var i = 0; i < 30; i++) {
      var d = offsetDeg(wlon, wlat), nextLon = lon - d[0], nextLat = lat - d[1];
      var step = Math.max(Math.abs(nextLon - wlon), Math.abs(nextLat - wlat));
      wlon = nextLon; wlat = nextLat;
      if (step <= 1e-12) break;
    }
    return [wlon, wlat];
  }

  window.gridmapChinaCoords = {toGcj: toGcj, toWgs: toWgs};

  // How a WGS84 position is drawn on this map, and where a drawn position really is.
  function projector(tiles) {
    var gcj = Boolean(tiles && tiles.datum === "gcj02");
    return {
      gcj: gcj,
      show: function (lon, lat) { var p = gcj ? toGcj(lon, lat) : [lon, lat]; return L.latLng(p[1], p[0]); },
      real: function (latlng) { var p = gcj ? toWgs(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat]; return p; }
    };
  }

  function readConfig(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function addBase(map, tiles) {
    if (!tiles || !tiles.url) {
      map.getContainer().classList.add("no-tiles");
      return;
    }
    var options = {maxZoom: tiles.maxZoom || 18, subdomains: tiles.subdomains || "abc"};
    L.tileLayer(tiles.url, L.extend({attribution: tiles.attribution || ""}, options)).addTo(map);
    (tiles.overlays || []).forEach(function (url) { L.tileLayer(url, options).addTo(map); });
  }

  // A coordinate typed by hand: a plain decimal number, nothing else (as the server checks).
  function number(text) {
    var s = String(text).trim();
    return /^[-+]?\d{1,3}(\.\d+)?$/.test(s) ? parseFloat(s) : null;
  }

  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;  // grid names are data, never markup
    return span;
  }

  // Street names and grid codes written on the map from our own data (with no tiles nothing else
  // names a place): shown from LABEL_ZOOM on, each hidden when it would overlap one shown before.
  var LABEL_ZOOM = 16;
  function middle(latlngs) {  // the point halfway along a line (of its longest part)
    var parts = L.LineUtil.isFlat(latlngs) ? [latlngs] : latlngs, best = null, bestLength = -1;
    parts.forEach(function (line) {
      var total = 0;
      for (var i = 1; i < line.length; i++) total += line[i - 1].distanceTo(line[i]);
      if (total > bestLength) { best = line; bestLength = total; }
    });
    if (!best || !best.length) return null;
    var half = bestLength / 2;
    for (var j = 1; j < best.length; j++) {
      var step = best[j - 1].distanceTo(best[j]);
      if (step >= half && step > 0) {
        var f = half / step;
        return L.latLng(best[j - 1].lat + f * (best[j].lat - best[j - 1].lat),
                        best[j - 1].lng + f * (best[j].lng - best[j - 1].lng));
      }
      half -= step;
    }
    return best[0];
  }
  function placeLabels(map, grids, streets) {
    var items = [], seen = {};
    streets.eachLayer(function (layer) {
      var name = (layer.feature.properties || {}).name, at = middle(layer.getLatLngs());
      if (!name || !at || seen[name]) return;
      seen[name] = true;  // one label a street name
      items.push({at: at, text: name, cls: "street"});
    });
    grids.eachLayer(function (layer) {
      var code = (layer.feature.properties || {}).code;
      if (code) items.push({at: layer.getBounds().getCenter(), text: code, cls: "grid-code"});
    });
    var group = L.layerGroup().addTo(map), tips = items.map(function (it) {
      return L.tooltip({permanent: true, direction: "center", interactive: false,
                        className: "place-label " + it.cls}).setLatLng(it.at).setContent(label(it.text));
    });
    function refresh() {
      group.clearLayers();
      if (map.getZoom() < LABEL_ZOOM) return;
      var view = map.getBounds(), placed = [];
      tips.forEach(function (t) {
        if (!view.contains(t.getLatLng())) return;
        group.addLayer(t);
        var el = t.getElement(), r = el.getBoundingClientRect();
        var hit = placed.some(function (p) {
          return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top;
        });
        if (hit) { group.removeLayer(t); } else { placed.push(r); }
      });
    }
    map.on("zoomend moveend", refresh);
    refresh();
    return group;
  }

  function initPicker() {
    var config = readConfig("picker-config");
    var box = document.getElementById("picker-map");
    var lon = document.getElementById("id_lon");
    var lat = document.getElementById("id_lat");
    if (!config || !box || !lon || !lat || !window.L) return;
    box.hidden = false;
    var hint = document.getElementById("picker-hint");
    if (hint) hint.hidden = false;

    var map = L.map(box, {maxZoom: 20});
    addBase(map, config.tiles);
    var proj = projector(config.tiles);
    var grids = L.geoJSON(config.grids || null, {
      style: GRID_STYLE,
      interactive: true,
      coordsToLatLng: function (c) { return proj.show(c[0], c[1]); },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        layer.bindTooltip(label((p.name || "") + " " + (p.code || "")), {sticky: true});
      }
    });
    // street centrelines as a reference under everything (sent only when there are no tiles)
    var streets = L.geoJSON(config.streets || null, {
      style: STREET_STYLE,
      interactive: false,
      coordsToLatLng: function (c) { return proj.show(c[0], c[1]); }
    });
    // the view first: a vector layer added to a map with no view yet fails to draw
    var bounds = grids.getBounds(), town = streets.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, {padding: [12, 12], maxZoom: 18, animate: false});
    } else if (town.isValid()) {  // no grid of one's own: the town, by its streets
      map.fitBounds(town, {padding: [12, 12], maxZoom: 16, animate: false});
    } else {
      map.setView(proj.show(config.center[0], config.center[1]), 16, {animate: false});
    }
    streets.addTo(map);
    grids.addTo(map);
    var labels = placeLabels(map, grids, streets);

    var marker = null;
    function write(latlng) {  // a drawn position → the WGS84 fields
      var at = proj.real(latlng.wrap());
      lon.value = at[0].toFixed(6);
      lat.value = at[1].toFixed(6);
      lon.dispatchEvent(new CustomEvent("gridmap:picked", {bubbles: true}));  // report_nearby.js
    }
    function place(latlng, pan) {
      if (marker === null) {
        marker = L.marker(latlng, {draggable: true, autoPan: true, keyboard: true});
        marker.on("dragend", function () { write(marker.getLatLng()); });
        marker.addTo(map);
      } else {
        marker.setLatLng(latlng);
      }
      if (pan) map.panTo(latlng);
    }
    // a click on a grid bubbles up to the map too: a click anywhere sets the place
    map.on("click", function (event) { place(event.latlng, false); write(event.latlng); });

    function fromFields() {
      var x = number(lon.value), y = number(lat.value);
      if (x === null || y === null || Math.abs(x) > 180 || Math.abs(y) > 90) return;
      place(proj.show(x, y), true);
    }
    lon.addEventListener("input", fromFields);
    lat.addEventListener("input", fromFields);
    lon.addEventListener("change", fromFields);
    lat.addEventListener("change", fromFields);
    fromFields();  // a form shown again with its values

    window.gridmapPicker = {
      map: map,
      grids: grids,
      streets: streets,
      labels: function () {
        return labels.getLayers().map(function (t) { return t.getElement().textContent; });
      },
      marker: function () { return marker; },
      place: function (x, y) { place(proj.show(x, y), true); lon.value = x.toFixed(6); lat.value = y.toFixed(6); },
      datum: proj.gcj ? "gcj02" : "wgs84",
      ready: true
    };
  }

  function initLocate() {
    var button = document.getElementById("locate");
    var status = document.getElementById("locate-status");
    var lon = document.getElementById("id_lon");
    var lat = document.getElementById("id_lat");
    if (!button || !lon || !lat || !navigator.geolocation) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.locating || "";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lon.value = pos.coords.longitude.toFixed(6);
        lat.value = pos.coords.latitude.toFixed(6);
        lon.dispatchEvent(new Event("change"));  // the picker moves its marker
        status.textContent = (button.dataset.accuracy || "") + " " + Math.round(pos.coords.accuracy) + " m";
      }, function (err) {
        status.textContent = (button.dataset.failed || "") + " " + err.message;
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  // A photo carrying its GPS position places the marker (the fix form's after-photo: the server
  // takes the photo's position over the fields, so the map shows where it will be). The EXIF is
  // read in the browser by the vendored exifr (static/vendor/exifr-7.1.3, its lite build).
  function initPhotoPosition() {
    var input = document.querySelector("input[type=file][data-exif-place]");
    var lon = document.getElementById("id_lon");
    var lat = document.getElementById("id_lat");
    var status = document.getElementById("locate-status");
    if (!input || !lon || !lat || !window.exifr || !window.exifr.gps) return;
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      (function next(i) {  // the first photo with a position
        if (i >= files.length) return;
        window.exifr.gps(files[i]).then(function (gps) {
          var x = gps && Number(gps.longitude), y = gps && Number(gps.latitude);
          if (!gps || !isFinite(x) || !isFinite(y) || Math.abs(x) > 180 || Math.abs(y) > 90) {
            next(i + 1);
            return;
          }
          lon.value = x.toFixed(6);
          lat.value = y.toFixed(6);
          lon.dispatchEvent(new Event("change"));  // the picker moves its marker
          if (status) status.textContent = input.dataset.exifPlace || "";
          input.dispatchEvent(new CustomEvent("gridmap:photo-placed", {bubbles: true}));
        }, function () { next(i + 1); });  // not an image exifr reads: the fields stay
      })(0);
    });
  }

  function initLocationMap() {
    var config = readConfig("location-config");
    var box = document.getElementById("location-map");
    if (!config || !box || !window.L) return;
    box.hidden = false;
    var map = L.map(box, {maxZoom: 20, scrollWheelZoom: false});
    addBase(map, config.tiles);
    var proj = projector(config.tiles);
    var at = proj.show(config.center[0], config.center[1]);
    map.setView(at, 17, {animate: false});  // before any layer (see initPicker)
    if (config.grid) {
      L.geoJSON(config.grid, {style: GRID_STYLE, interactive: false,
        coordsToLatLng: function (c) { return proj.show(c[0], c[1]); }}).addTo(map);
    }
    L.circleMarker(at, {radius: 8, color: "#fff", weight: 2, fillColor: "#d7191c", fillOpacity: 1}).addTo(map);
    window.gridmapLocation = {map: map, ready: true};
  }

  initPicker();
  initLocate();
  initPhotoPosition();
  initLocationMap();
})();
