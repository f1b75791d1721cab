// maumeter dashboard: the overview follows the live figures without a reload (polling the
// server's /orgs/{org}/live every 2 s; the gauge arrives as server-rendered, escaped SVG).
(function () {
  "use strict";
  var box = document.querySelector("[data-live-source]");
  if (!box) { return; }
  var url = box.getAttribute("data-live-source");
  var busy = false;
  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) { return; }
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var key = el.getAttribute("data-live");
          if (!(key in d)) { return; }
          if (key === "gauge") { el.innerHTML = d.gauge; } else { el.textContent = d[key]; }
        });
        document.body.setAttribute("data-live-updated", String(Date.now()));
      })
      .catch(function () { /* the server is away for a moment: the next tick tries again */ })
      .then(function () { busy = false; });
  }
  window.setInterval(tick, 2000);
})();
