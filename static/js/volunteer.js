// Volunteers' pages: the urgent call's live count, and the join form's list of units.
// Every page works without it.
(function () {
  "use strict";
  // "12 of 20 answered": asked again every 15 seconds while the page is open.
  document.querySelectorAll("[data-count-url]").forEach(function (node) {
    var refresh = function () {
      if (document.hidden) return;
      fetch(node.dataset.countUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) {
          if (!c) return;
          node.textContent = node.dataset.template
            .replace("{signed}", c.signed).replace("{needed}", c.needed);
        })
        .catch(function () {});
    };
    window.setInterval(refresh, 15000);
  });
  // The units on the join form are the chosen community's.
  var join = document.getElementById("join-form");
  if (join) {
    var community = join.querySelector("select[name=community]");
    var unit = join.querySelector("select[name=unit]");
    if (community && unit) {
      community.addEventListener("change", function () {
        var url = new URL(join.dataset.unitsUrl, window.location.href);
        url.searchParams.set("community", community.value);
        fetch(url.toString(), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (units) {
            while (unit.options.length > 1) unit.remove(1);
            units.forEach(function (u) { unit.add(new Option(u.name, u.id)); });
          });
      });
    }
  }
})();
