// Strongroom's dashboard: small progressive enhancements. Every page works without this
// file; with it, the vault switcher switches on selection, copy buttons copy, and htmx
// requests carry the page's CSRF token.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
      return;
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    document.body.removeChild(area);
    done();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (source) { copyText(source.innerText.trim(), button); }
  });

  // A region marked data-live="URL" keeps itself current: every data-live-every ms it
  // asks data-live-version for the region's digest and, only when that differs from
  // data-live-tag, fetches URL and swaps the region in. Never while someone is using it
  // (a menu open, a field focused), so nothing typed or opened is lost.
  function swapIn(region) {
    fetch(region.getAttribute("data-live"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var fresh = parsed.getElementById(region.id);
        if (!fresh) { return; }
        region.innerHTML = fresh.innerHTML;
        region.setAttribute("data-live-tag", fresh.getAttribute("data-live-tag") || "");
        if (window.htmx) { window.htmx.process(region); }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  function refreshLive(region) {
    var busy = region.querySelector("details[open]") || region.contains(document.activeElement);
    if (busy || document.hidden) { return; }
    fetch(region.getAttribute("data-live-version"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (tag) {
        if (tag !== null && tag !== region.getAttribute("data-live-tag")) { swapIn(region); }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(function (region) {
      var every = parseInt(region.getAttribute("data-live-every"), 10) || 3000;
      setInterval(function () { refreshLive(region); }, every);
    });
  });

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) { select.form.requestSubmit(); }
  });
})();
