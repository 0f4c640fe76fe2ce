/* 邻里 — the card page's extras. The page works without them.
   - A service worker keeps a copy of this card for a shop with no signal (static/js/sw.js).
   - The screen stays on for a while, so it does not dim while the shop scans the code.
   - Where the browser offers to install the page as an app, a button says so. */
(function () {
  "use strict";

  if ("serviceWorker" in navigator) {
    // The QR opens /C/<token>, links open /c/<token>: paths are case-sensitive, so the worker
    // is registered for both. It controls nothing else on the site.
    var here = location.pathname.charAt(1) === "C" ? "/C/" : "/c/";
    ["/c/", "/C/"].forEach(function (scope) {
      navigator.serviceWorker.register("/sw.js", { scope: scope }).catch(function () {});
    });
    // On the first visit the worker arrives after the page: ask it to keep this page now.
    if (!navigator.serviceWorker.controller) {
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.scope.slice(-3) === here && registration.active) {
          registration.active.postMessage({ keep: location.href });
        }
      });
    }
  }

  var AWAKE_MS = 3 * 60 * 1000;
  var lock = null;
  var since = Date.now();
  function keepAwake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible") return;
    if (lock || Date.now() - since > AWAKE_MS) return;
    navigator.wakeLock.request("screen").then(function (sentinel) {
      lock = sentinel;
      sentinel.addEventListener("release", function () { lock = null; });
      setTimeout(function () { sentinel.release(); }, Math.max(AWAKE_MS - (Date.now() - since), 0));
    }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") since = Date.now();
    keepAwake();
  });
  keepAwake();

  var button = document.querySelector(".install");
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      button.hidden = true;
      event.prompt();
    }, { once: true });
  });
})();
