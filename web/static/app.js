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

  // Import progress: poll the job's status and go to the batch when done.
  function pollJob(box) {
    var url = box.getAttribute("data-job");
    var bar = box.querySelector("[data-testid=job-progress]");
    var rows = box.querySelector("[data-testid=job-rows]");
    var rate = box.querySelector("[data-testid=job-rate]");
    var errBox = box.querySelector("[data-testid=job-error]");
    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          rows.textContent = s.rows;
          rate.textContent = s.rate;
          if (s.percent >= 0) { bar.value = s.percent; } else { bar.removeAttribute("value"); }
          if (s.done && s.confirm && !box.querySelector("[data-testid=import-confirm]")) {
            window.location.reload(); // the page offers the confirmation
            return;
          }
          if (s.done && s.error) {
            bar.value = 0;
            errBox.hidden = false;
            errBox.querySelector("span").textContent = s.error;
            return;
          }
          if (s.done) {
            bar.value = 100;
            window.location.href = "/imports/" + s.batch;
            return;
          }
          setTimeout(tick, 500);
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  }

  // Comparison progress: show the current step, open the result when done.
  function pollCompare(box) {
    var url = box.getAttribute("data-compare-job");
    var bar = box.querySelector("[data-testid=job-progress]");
    var step = box.querySelector("[data-testid=job-step]");
    var spent = box.querySelector("[data-testid=job-elapsed]");
    var errBox = box.querySelector("[data-testid=job-error]");
    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          step.textContent = s.step;
          spent.textContent = s.elapsed;
          if (s.done && s.error) {
            bar.max = 1;
            bar.value = 0;
            errBox.hidden = false;
            errBox.querySelector("span").textContent = s.error;
            return;
          }
          if (s.done) {
            window.location.href = "/compare/runs/" + s.run;
            return;
          }
          setTimeout(tick, 500);
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-job]");
    if (box) { pollJob(box); }
    var cmp = document.querySelector("[data-compare-job]");
    if (cmp) { pollCompare(cmp); }
  });
})();
