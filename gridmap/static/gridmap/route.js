/* The route page: a stop ticked off as visited (or not) without leaving the page.
 *
 * Each stop of the list has a form posting to /route/visits/ (it works without this script: the
 * server ticks and sends the page back). Here the form is sent with fetch, the answer (JSON) sets
 * the button, the list entry and the stop's circle on the map (window.gridmap.route.setVisited),
 * and the count of stops visited today. A failed request leaves everything as it was and says so.
 */
(function () {
  "use strict";

  function update(form, visited, count) {
    var li = form.closest("li"), button = form.querySelector("button");
    var flag = form.querySelector("input[name=visited]");
    button.setAttribute("aria-pressed", visited ? "true" : "false");
    flag.value = visited ? "0" : "1";  // the next press does the opposite
    if (li) li.classList.toggle("visited", visited);
    if (window.gridmap && window.gridmap.route) {
      window.gridmap.route.setVisited(form.querySelector("input[name=problem]").value, visited);
    }
    var total = document.getElementById("route-visited-count");
    var box = document.getElementById("route-visits");
    if (total && typeof count === "number") total.textContent = String(count);
    if (box && typeof count === "number") box.hidden = count === 0;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("stop-visit") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: {"Accept": "application/json"},
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (answer) {
      update(form, answer.visited, answer.visited_today);
      document.dispatchEvent(new CustomEvent("gridmap:visited", {detail: answer}));
    }).catch(function () {
      button.classList.add("failed");
      var list = form.closest("ol");
      button.title = (list && list.getAttribute("data-visit-failed")) || button.title;
    }).then(function () { button.disabled = false; });
  });
})();
