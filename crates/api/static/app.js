// OpenCAPF admin pages: the one small script. No framework, no build step.
// - [data-refresh="URL"] elements are replaced every [data-interval] seconds (default 5) by the
//   HTML fragment at URL (live registrations, re-keying progress).
// - forms with [data-confirm="text"] ask before they are sent.
// - [data-select-all="NAME"] checkboxes tick every checkbox named NAME.
(function () {
  "use strict";
  function refresh(el) {
    var url = el.getAttribute("data-refresh");
    var every = (parseInt(el.getAttribute("data-interval"), 10) || 5) * 1000;
    setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { el.innerHTML = html; } })
        .catch(function () {});
    }, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(refresh);
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-select-all");
        document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (c) {
          c.checked = box.checked;
        });
      });
    });
  });
})();
