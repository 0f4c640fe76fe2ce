/* 邻里 service worker: the last card pages seen, for a shop with no signal.

   Registered for /c/ and /C/ only (see card.js), so staff and shop pages are never under it.
   It keeps a page only when the server marked it with `X-Offline-Copy: allow`, which the
   resident's card page does and a signed-in shop's view of a card does not. A kept page is
   shown only when the network fails or hangs, with its "offline copy, saved at" notice
   revealed. A card this phone never opened gets the site's own offline page instead (kept
   when the worker is installed), which says what to do. Static files (their URLs carry a
   content hash) are kept as they are fetched. */
"use strict";

var PAGES = "linli-cards-v1";
var ASSETS = "linli-assets-v1";
var OFFLINE = "linli-offline-v1";
var OFFLINE_PAGE = "/offline";
var KEEP = 5; // card pages kept: a household may hold several cards
var PATIENCE_MS = 4000; // on a weak signal, show the kept copy after this long

self.addEventListener("install", function (event) {
  event.waitUntil(keepOfflinePage().catch(function () {}).then(function () {
    return self.skipWaiting();
  }));
});

function keepOfflinePage() {
  return fetch(OFFLINE_PAGE).then(function (response) {
    if (!response.ok) return;
    return response.clone().text().then(keepAssets).then(function () {
      return caches.open(OFFLINE);
    }).then(function (cache) { return cache.put(OFFLINE_PAGE, response); });
  });
}

function offlinePage() {
  return caches.open(OFFLINE).then(function (cache) { return cache.match(OFFLINE_PAGE); })
    .then(function (page) { return page || Response.error(); });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("linli-") === 0 && [PAGES, ASSETS, OFFLINE].indexOf(name) < 0;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

/* /C/TOKEN, /c/token and /c/TOKEN?cat=... are one card. */
function cardKey(url) {
  var match = /^\/c\/([a-z2-7]{16,64})\/?$/i.exec(url.pathname);
  return match ? url.origin + "/c/" + match[1].toUpperCase() : null;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    var key = cardKey(url);
    if (key) event.respondWith(cardPage(event, request, key));
  } else if (url.pathname.indexOf("/static/") === 0 && url.search) {
    event.respondWith(asset(request));
  }
});

self.addEventListener("message", function (event) {
  var url = event.data && event.data.keep;
  var key = url && cardKey(new URL(url));
  if (key) event.waitUntil(fetch(url).then(function (response) { return keep(key, response); }));
});

function cardPage(event, request, key) {
  var network = fetch(request).then(function (response) {
    event.waitUntil(keep(key, response.clone()));
    return response;
  });
  var patience = new Promise(function (resolve) { setTimeout(resolve, PATIENCE_MS); });
  var kept = patience.then(function () { return keptCopy(key); });
  return Promise.race([network, kept.then(function (copy) { return copy || network; })])
    .catch(function () {
      return keptCopy(key).then(function (copy) { return copy || offlinePage(); });
    });
}

function keep(key, response) {
  var allowed = response.ok && response.headers.get("X-Offline-Copy") === "allow" &&
    !/no-store/.test(response.headers.get("Cache-Control") || "");
  if (!allowed) return Promise.resolve();
  return response.text().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("X-Saved-At", String(Date.now()));
    return caches.open(PAGES).then(function (cache) {
      return cache.put(key, new Response(body, { headers: headers }))
        .then(function () { return cache.keys(); })
        .then(function (keys) {
          // put() moves a page to the end: the oldest pages come first.
          return Promise.all(keys.slice(0, Math.max(keys.length - KEEP, 0)).map(function (old) {
            return cache.delete(old);
          }));
        })
        .then(function () { return keepAssets(body); });
    });
  });
}

/* The stylesheet, script and icons the page names, so the copy looks right offline. */
function keepAssets(body) {
  var urls = body.match(/\/static\/[^"'\s?]+\?v=[0-9a-z]+/g) || [];
  return Promise.all(urls.map(function (url) {
    return asset(new Request(url)).catch(function () {});
  }));
}

function keptCopy(key) {
  return caches.open(PAGES).then(function (cache) { return cache.match(key); }).then(function (copy) {
    if (!copy) return null;
    var saved = shanghaiTime(Number(copy.headers.get("X-Saved-At")));
    return copy.text().then(function (body) {
      body = body.replace('<p class="offline" hidden>', '<p class="offline">')
        .replace('<time class="saved-at"></time>', '<time class="saved-at">' + saved + "</time>");
      return new Response(body, { headers: copy.headers });
    });
  });
}

/* 2026-05-12 18:30, as people in Wuhan read their clocks. */
function shanghaiTime(ms) {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 16).replace("T", " ");
}

function asset(request) {
  return caches.open(ASSETS).then(function (cache) {
    return cache.match(request).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (response.ok) {
          var path = new URL(request.url).pathname;
          cache.put(request, response.clone()).then(function () {
            return cache.keys();
          }).then(function (keys) {
            // A new version of a file replaces the old one.
            keys.forEach(function (old) {
              var url = new URL(old.url);
              if (url.pathname === path && old.url !== request.url) cache.delete(old);
            });
          });
        }
        return response;
      });
    });
  });
}
