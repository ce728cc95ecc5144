// Keeps figures on a page current without a reload. Pages work without it: they show the
// figures as of loading, and the venue screen also refreshes itself with a meta tag.
(function () {
  "use strict";
  var INTERVAL = 2000;

  function apply(root, data) {
    root.querySelectorAll("[data-key]").forEach(function (el) {
      var key = el.getAttribute("data-key");
      if (!(key in data)) return;
      var value = data[key];
      if (key === "qr") { el.innerHTML = value; return; }
      if (typeof value === "boolean") {
        el.textContent = value ? el.getAttribute("data-yes") : el.getAttribute("data-no");
        el.classList.toggle("ok", value);
        el.classList.toggle("warn", !value);
        return;
      }
      el.textContent = value;
    });
  }

  function poll(root, url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (data) { root.classList.remove("live-offline"); apply(root, data); })
      .catch(function () { root.classList.add("live-offline"); })
      .finally(function () { setTimeout(function () { poll(root, url); }, INTERVAL); });
  }

  document.querySelectorAll("[data-live]").forEach(function (root) { poll(root, root.getAttribute("data-live")); });
  var venue = document.querySelector("[data-venue]");
  if (venue) poll(venue, venue.getAttribute("data-venue"));
})();
