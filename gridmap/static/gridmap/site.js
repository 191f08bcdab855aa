/* gridmap pages: small behaviour shared by every page, from a file (no inline handlers, so a
 * strict Content-Security-Policy holds). A <select data-autosubmit> sends its form on change
 * (the language switch); without script a button in <noscript> does it. */
(function () {
  "use strict";
  var selects = document.querySelectorAll("select[data-autosubmit]");
  for (var i = 0; i < selects.length; i++) {
    selects[i].addEventListener("change", function (event) { event.target.form.submit(); });
  }
})();
