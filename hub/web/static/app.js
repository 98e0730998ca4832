/* crmhub web UI behaviour. No inline scripts anywhere: everything is wired here by data attributes.
 *  - htmx sends the CSRF token (from <meta name="csrf-token">) as X-CSRF-Token on every request;
 *  - "/" focuses the search box, Escape closes menus, Ctrl+Enter submits a form from a text area;
 *  - forms with data-confirm ask before sending; [data-add-row]/[data-remove-row] edit repeated fields;
 *  - the phone menu, filter toggles, dismissible messages, copy buttons, e-mail frame heights;
 *  - a thin progress bar while htmx works, and a message when a request fails.
 */
(function () {
  "use strict";

  var body = document.body;
  var csrf = document.querySelector('meta[name="csrf-token"]');
  if (csrf) {
    body.setAttribute("hx-headers", JSON.stringify({ "X-CSRF-Token": csrf.getAttribute("content") }));
  }

  // The browser's time zone, so that the server shows local times.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("crmhub_tz=" + encodeURIComponent(tz)) === -1) {
      document.cookie = "crmhub_tz=" + encodeURIComponent(tz) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* old browser: times stay in UTC */ }

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function closeNav() {
    body.classList.remove("nav-open");
    var btn = document.querySelector("[data-toggle-nav]");
    if (btn) btn.setAttribute("aria-expanded", "false");
  }

  function hits() { return document.getElementById("search-hits"); }

  function clearHits() {
    var box = hits();
    if (box) box.innerHTML = "";
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target)) {
      var search = document.querySelector('[data-hotkey="/"]');
      if (search) {
        e.preventDefault();
        closeNav();
        search.focus();
        search.select();
      }
      return;
    }
    if (e.key === "Escape") {
      closeNav();
      if (e.target && e.target.closest && e.target.closest(".global-search")) {
        clearHits();
        e.target.blur();
      }
      return;
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.tagName === "TEXTAREA" && e.target.form) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    // Arrow keys move between the global search box and its results.
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && e.target.closest && e.target.closest(".global-search")) {
      var links = Array.prototype.slice.call(document.querySelectorAll("#search-hits a"));
      if (!links.length) return;
      var i = links.indexOf(document.activeElement);
      var next = e.key === "ArrowDown" ? i + 1 : i - 1;
      if (next < -1) next = links.length - 1;
      e.preventDefault();
      if (next === -1 || next >= links.length) {
        document.getElementById("global-q").focus();
      } else {
        links[next].focus();
      }
    }
  });

  // A "tick all" box in a table header ticks every row box of the same name on the page.
  document.addEventListener("change", function (e) {
    var all = e.target;
    if (!all.matches || !all.matches("[data-select-all]")) return;
    var boxes = document.querySelectorAll('input[type="checkbox"][name="' + all.getAttribute("data-select-all") + '"]');
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
  });

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t.closest) return;
    var navButton = t.closest("[data-toggle-nav]");
    if (navButton) {
      var open = body.classList.toggle("nav-open");
      navButton.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    if (t.closest("[data-close-nav]")) { closeNav(); return; }

    var toggle = t.closest("[data-toggle]");
    if (toggle) {
      var target = document.querySelector(toggle.getAttribute("data-toggle"));
      if (target) {
        var shown = target.classList.toggle("open");
        toggle.setAttribute("aria-expanded", shown ? "true" : "false");
      }
      return;
    }
    var dismiss = t.closest("[data-dismiss]");
    if (dismiss) {
      var flash = dismiss.closest(".flash");
      if (flash) flash.remove();
      return;
    }
    var add = t.closest("[data-add-row]");
    if (add) {
      var group = add.closest("[data-multi]");
      var tpl = group && group.querySelector("template");
      var rows = group && group.querySelector(".multi-rows");
      if (tpl && rows) {
        var row = tpl.content.firstElementChild.cloneNode(true);
        rows.appendChild(row);
        if (window.htmx) window.htmx.process(row);
        var input = row.querySelector("input");
        if (input) input.focus();
      }
      return;
    }
    var remove = t.closest("[data-remove-row]");
    if (remove) {
      var current = remove.closest(".multi-row");
      var list = current && current.parentElement;
      if (list && list.children.length > 1) {
        current.remove();
      } else if (current) {
        current.querySelectorAll("input").forEach(function (i) { i.value = ""; });
        current.classList.remove("has-error");
        var err = current.querySelector(".field-error");
        if (err) err.remove();
      }
      return;
    }
    var copy = t.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source) {
        source.select();
        if (navigator.clipboard) {
          navigator.clipboard.writeText(source.value).catch(function () { document.execCommand("copy"); });
        } else {
          document.execCommand("copy");
        }
        copy.classList.add("copied");
      }
      return;
    }
    // A click outside the global search closes its results.
    if (!t.closest(".global-search")) clearHits();
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // An e-mail frame grows to its content (it is same-origin and runs no script of its own).
  function fitFrame(frame) {
    try {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = Math.min(Math.max(doc.documentElement.scrollHeight + 8, 60), 4000) + "px";
      }
    } catch (err) { /* keep the default height */ }
  }
  document.addEventListener("load", function (e) {
    if (e.target && e.target.classList && e.target.classList.contains("mail-frame")) fitFrame(e.target);
  }, true);
  document.addEventListener("toggle", function (e) {
    if (e.target.open) e.target.querySelectorAll("iframe.mail-frame").forEach(fitFrame);
  }, true);

  // On narrow screens the tab bar scrolls: keep the current tab in view.
  function showActiveTab() {
    var active = document.querySelector(".tabs .tab.active");
    if (!active) return;
    var bar = active.parentElement;
    if (bar.scrollWidth > bar.clientWidth) {
      bar.scrollLeft = active.offsetLeft - (bar.clientWidth - active.offsetWidth) / 2;
    }
  }
  showActiveTab();
  body.addEventListener("htmx:afterSettle", showActiveTab);

  // Loading state and failures of htmx requests.
  var inFlight = 0;
  function busy(delta) {
    inFlight = Math.max(0, inFlight + delta);
    body.classList.toggle("loading", inFlight > 0);
  }
  function toast(text) {
    var main = document.getElementById("main");
    if (!main || !text) return;
    var box = main.querySelector(".flashes");
    if (!box) {
      box = document.createElement("div");
      box.className = "flashes";
      box.setAttribute("role", "status");
      main.insertBefore(box, main.firstChild);
    }
    var item = document.createElement("div");
    item.className = "flash flash-error";
    var span = document.createElement("span");
    span.textContent = text;
    item.appendChild(span);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }
  body.addEventListener("htmx:beforeRequest", function () { busy(1); });
  body.addEventListener("htmx:afterRequest", function () { busy(-1); });
  body.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = xhr && xhr.getResponseHeader("content-type") && xhr.getResponseHeader("content-type").indexOf("text/plain") === 0
      ? xhr.responseText : body.getAttribute("data-msg-failed");
    toast(text);
  });
  body.addEventListener("htmx:sendError", function () { toast(body.getAttribute("data-msg-offline")); });
})();
