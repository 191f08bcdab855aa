/* The walk form: "Record this walk" fills the task; "Record my track" collects the browser's
 * positions ([lon, lat], at most one every 5 m) into the form's hidden track; saving sets the end
 * time to now when it is empty. No position leaves the page before the form is sent. */
(function () {
  "use strict";
  var form = document.getElementById("walk-form");
  if (!form) return;
  var track = [], watching = null;
  var field = form.querySelector("input[name=track]");
  var counter = document.getElementById("walk-points");
  var button = document.getElementById("walk-track");

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localNow() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  Array.prototype.forEach.call(document.querySelectorAll(".walk-task"), function (b) {
    b.addEventListener("click", function () {
      form.querySelector("input[name=task]").value = b.getAttribute("data-task");
      form.scrollIntoView();
    });
  });

  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      if (watching !== null) return;
      watching = navigator.geolocation.watchPosition(function (pos) {
        var p = [Number(pos.coords.longitude.toFixed(6)), Number(pos.coords.latitude.toFixed(6))];
        var last = track[track.length - 1];
        if (last && Math.abs(last[0] - p[0]) < 5e-5 && Math.abs(last[1] - p[1]) < 5e-5) return;
        track.push(p);
        field.value = JSON.stringify(track);
        if (counter) counter.textContent = String(track.length);
      }, function () {}, {enableHighAccuracy: true, maximumAge: 5000});
    });
  }

  // the end time is filled when saving is pressed (before the browser checks required fields)
  var save = form.querySelector("button[type=submit]");
  save.addEventListener("click", function () {
    var end = form.querySelector("input[name=ended_at]");
    if (end && !end.value) end.value = localNow();
  });
  form.addEventListener("submit", function () {
    if (watching !== null) navigator.geolocation.clearWatch(watching);
  });
})();
