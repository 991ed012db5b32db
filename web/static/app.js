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
})();
