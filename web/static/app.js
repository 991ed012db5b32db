// canbao: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest && t.closest(".navtoggle")) {
      document.getElementById("sidenav").classList.toggle("open");
    }
    var c = t.closest && t.closest("[data-confirm]");
    if (c && !window.confirm(c.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  });

  // Job progress (imports, comparisons): poll the job's status, and open
  // its result when it succeeds. Without script the page refreshes itself.
  function pollJob(box) {
    var url = box.getAttribute("data-job-status");
    function q(id) { return box.querySelector("[data-testid=" + id + "]"); }
    var bar = q("job-progress"), errBox = q("job-error"), cancel = q("job-cancel-form");
    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (!r.ok) { throw new Error(r.status); }
          return r.json();
        })
        .then(function (s) {
          q("job-state").textContent = s.label;
          q("job-message").textContent = s.message;
          q("job-elapsed").textContent = s.elapsed;
          q("job-count").textContent = s.count;
          if (s.percent >= 0) { bar.value = s.percent; } else { bar.removeAttribute("value"); }
          if (s.active) {
            setTimeout(tick, 500);
            return;
          }
          if (s.state === "succeeded" && box.hasAttribute("data-job-reload")) {
            window.location.reload(); // the page shows what the job prepared
            return;
          }
          if (s.result) {
            window.location.href = s.result;
            return;
          }
          if (s.confirm && !q("import-confirm")) {
            window.location.reload(); // the page offers the confirmation
            return;
          }
          if (cancel) { cancel.hidden = true; }
          bar.value = 0;
          errBox.hidden = false;
          errBox.querySelector("span").textContent = s.error;
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-job-status]");
    if (box) { pollJob(box); }
  });
})();
