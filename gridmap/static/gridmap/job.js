/* A background job's page follows the job: it asks for its state every two seconds until it is
 * done or failed, and shows the progress, the message and, when there is one, the file's link. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-url]");
  if (!box) { return; }
  var part = function (name) { return box.querySelector('[data-job="' + name + '"]'); };
  function show(job) {
    var bar = part("bar");
    bar.max = job.total || 1;
    bar.value = job.done;
    part("count").textContent = job.total ? job.done + " / " + job.total : "";
    part("message").textContent = job.message || "";
    part("state").textContent = box.getAttribute("data-label-" + job.state) || job.state;
    part("file").hidden = !(job.state === "done" && job.file);
    box.setAttribute("data-job-state", job.state);
  }
  function poll() {
    var state = box.getAttribute("data-job-state");
    if (state === "done" || state === "failed") { return; }
    fetch(box.getAttribute("data-job-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (job && (job.state === "done" || job.state === "failed")) {
          window.location.reload();  // the finished page shows the result
          return;
        }
        if (job) { show(job); }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
