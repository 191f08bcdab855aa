/* gridmap report form: what is already reported near the picked place, before sending.
 *
 * As the reporter picks a place (map, "use my location" or typed numbers) and a category, asks
 * /api/v1/problems/nearby/ (the intake's duplicate finder; the public part of each case only)
 * and lists the open reports there, the likely duplicates first. "Is it this one?" posts the
 * case number (the button's value, through the separate #join-form) and the picked place to
 * the join page, which adds the reporter to that case as a
 * co-reporter instead of making a new one. Texts come from data-* attributes (translated by
 * the page); case data is written as text, never as markup. Plain script, no inline code.
 */
(function () {
  "use strict";

  var box = document.getElementById("nearby");
  var lon = document.getElementById("id_lon");
  var lat = document.getElementById("id_lat");
  var form = document.getElementById("report-form");
  if (!box || !lon || !lat || !form || !window.fetch) return;
  var joining = document.getElementById("join-form");
  var timer = null, asked = "";

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function category() {
    var checked = form.querySelector("input[name=category]:checked");
    return checked ? checked.dataset.code || "" : "";
  }

  function joinButton(id) {
    var button = el("button", box.dataset.ask, "join");
    button.type = "submit";
    button.setAttribute("form", "join-form");
    button.name = "problem";
    button.value = String(id);
    return button;
  }

  if (joining) {
    joining.addEventListener("submit", function () {  // the place picked, as it is now
      joining.elements.lon.value = lon.value;
      joining.elements.lat.value = lat.value;
    });
  }

  function show(reports) {
    while (box.lastChild) box.removeChild(box.lastChild);
    box.appendChild(el("h2", box.dataset.title));
    if (!reports.length) {
      box.appendChild(el("p", box.dataset.none, "muted"));
    } else {
      var list = el("ul", undefined, "nearby-list");
      reports.forEach(function (r) {
        var item = el("li", undefined, r.likely_duplicate ? "likely" : "");
        item.dataset.id = String(r.id);
        var head = el("div");
        head.appendChild(el("strong", "#" + r.id + " " + r.category));
        head.appendChild(document.createTextNode(" "));
        head.appendChild(el("span", r.status_label, "status status-" + r.status));
        if (r.likely_duplicate) head.appendChild(el("span", " " + box.dataset.same, "same"));
        item.appendChild(head);
        item.appendChild(el("div", Math.round(r.distance_m) + " " + box.dataset.metres + " · " +
          box.dataset.reported + " " + r.reported_on, "muted"));
        if (joining) item.appendChild(joinButton(r.id));
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    box.hidden = false;
  }

  function ask() {
    var x = lon.value.trim(), y = lat.value.trim();
    if (!x || !y) return;
    var query = "lon=" + encodeURIComponent(x) + "&lat=" + encodeURIComponent(y);
    var code = category();
    if (code) query += "&category=" + encodeURIComponent(code);
    if (query === asked) return;
    asked = query;
    fetch(box.dataset.url + "?" + query, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && query === asked) show(data.reports || []); })
      .catch(function () { /* the form works without the list */ });
  }

  function soon() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(ask, 300);
  }

  document.addEventListener("gridmap:picked", soon);
  lon.addEventListener("change", soon);
  lat.addEventListener("change", soon);
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "category") soon();
  });
  soon();  // a form shown again with its place
  window.gridmapNearby = {ask: ask};
})();
