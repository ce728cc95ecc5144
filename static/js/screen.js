// The venue screen: asks for the current slide every second (a 304 while nothing changed),
// swaps it in without a reload, and keeps the last state with a marker when the network
// drops. Arrow keys, Page Up/Down (presentation clickers) and Space move the slides.
(function () {
  "use strict";
  var INTERVAL = 1000;
  var main = document.getElementById("main");
  var marker = document.querySelector(".offline-marker");
  var token = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var fingerprint = main.getAttribute("data-fingerprint");
  var timer = null;

  function offline(isOffline) {
    document.body.classList.toggle("offline", isOffline);
    marker.textContent = isOffline ? marker.getAttribute("data-text") : "";
  }

  function poll() {
    clearTimeout(timer);
    fetch(main.getAttribute("data-slide-url"), {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",  // signed out: a redirect to the sign-in page must not land on the screen
      headers: { "If-None-Match": '"' + fingerprint + '"' }
    })
      .then(function (response) {
        if (response.status === 304) return null;
        if (!response.ok) throw new Error(response.status);
        var etag = (response.headers.get("ETag") || "").replace(/^W\//, "").replace(/"/g, "");
        return response.text().then(function (html) { return { html: html, etag: etag }; });
      })
      .then(function (update) {
        offline(false);
        if (!update) return;
        fingerprint = update.etag;
        main.innerHTML = update.html;
        if (window.drawCharts) window.drawCharts(main);
      })
      .catch(function () { offline(true); })
      .finally(function () { timer = setTimeout(poll, INTERVAL); });
  }

  function go(to) {
    var body = new URLSearchParams({ csrf_token: token, to: to });
    fetch(main.getAttribute("data-go-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      body: body
    }).then(poll, function () { offline(true); });
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var forward = ["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"];
    var back = ["ArrowLeft", "ArrowUp", "PageUp", "Backspace"];
    if (forward.indexOf(event.key) >= 0) { event.preventDefault(); go("next"); }
    else if (back.indexOf(event.key) >= 0) { event.preventDefault(); go("prev"); }
  });

  timer = setTimeout(poll, INTERVAL);
})();
