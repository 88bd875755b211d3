// Contoso Images: the small amount of behaviour the pages add on top of htmx.
// Every page works without it; this file makes messages, focus, selection, copy and times nicer.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- Messages: fixed in view, announced, failures stay until dismissed ---------------------

  var AUTOHIDE_MS = 10000;

  function messageBox() { return document.getElementById("messages"); }

  function showMessage(level, text) {
    var box = messageBox();
    if (!box || !text) { return null; }
    var item = document.createElement("div");
    item.className = "message message-" + (level || "info");
    item.setAttribute("role", level === "error" ? "alert" : "status");
    var p = document.createElement("p");
    p.textContent = text;
    item.appendChild(p);
    item.appendChild(dismissButton());
    box.appendChild(item);
    armAutohide(item);
    return item;
  }

  function dismissButton() {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "dismiss";
    button.setAttribute("aria-label", "Dismiss this message");
    button.textContent = "×";
    return button;
  }

  // Success and information leave by themselves (unless hovered or focused); failures stay.
  function armAutohide(item) {
    if (item.classList.contains("message-error") || item.classList.contains("message-warning")) { return; }
    var timer = null;
    function start() { timer = window.setTimeout(function () { item.remove(); }, AUTOHIDE_MS); }
    function stop() { window.clearTimeout(timer); }
    item.addEventListener("mouseenter", stop);
    item.addEventListener("focusin", stop);
    item.addEventListener("mouseleave", start);
    start();
  }

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest(".dismiss");
    if (dismiss && dismiss.closest(".message")) { dismiss.closest(".message").remove(); }
  });

  document.querySelectorAll("#messages .message").forEach(armAutohide);

  // The server asks for a message with HX-Trigger: {"show-message": {"level", "text"}}.
  document.body.addEventListener("show-message", function (event) {
    showMessage(event.detail.level, event.detail.text);
  });

  // --- Refusals and failures say so where the click happened ---------------------------------

  // A 409 with HTML is a refusal that re-renders the row as it is now (with the reason): swap it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (xhr.status === 409 && type.indexOf("text/html") === 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    rememberTicks(event.detail.target);
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "The request failed (" + xhr.status + "). Nothing was changed; try again.";
    if (xhr.status >= 500) {
      // The server may have failed after queuing the action: say what is known, no more.
      text = "The request failed on the server (" + xhr.status + "). The action may or may not " +
        "have been queued: reload the page or check Notifications before trying again.";
    }
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (xhr.status === 403 && xhr.getResponseHeader("X-Refusal") === "csrf") {
      // Not the role: the page's CSRF token is stale (signed in again in another tab?).
      text = "Your session changed (signed in again in another tab?); reload the page and try again.";
    }
    else if (type.indexOf("text/plain") === 0 && xhr.responseText) { text = xhr.responseText; }
    else if (xhr.status === 403) { text = "Your role does not allow this action."; }
    else if (xhr.status === 404) { text = "This VM is no longer in the inventory. Reload the page."; }
    else if (xhr.status === 409) { text = "This conflicts with the current state. Reload the page to see it."; }
    sayNear(event.detail.elt, text);
    showMessage("error", text);
  });

  document.addEventListener("htmx:sendError", function (event) {
    var text = "The dashboard could not be reached. Nothing was sent; check your connection and try again.";
    sayNear(event.detail.elt, text);
    showMessage("error", text);
  });

  function isPoll(elt) {
    return !!(elt && elt.getAttribute && (elt.getAttribute("hx-trigger") || "").indexOf("every") !== -1);
  }

  // A refusal stays on its row while the row's polls redraw it, until the person acts there.
  var refusals = {};
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id && !isPoll(event.detail.elt)) { delete refusals[target.id]; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var fresh = event.target;
    if (!fresh || !fresh.id || !fresh.querySelector) { return; }
    var note = fresh.querySelector(".refusal:not(.client)");
    if (note) { refusals[fresh.id] = note.textContent; return; }
    var text = refusals[fresh.id];
    var actions = text && fresh.querySelector(".actions");
    if (actions) {
      var kept = document.createElement("p");
      kept.className = "refusal";
      kept.textContent = text;
      actions.appendChild(kept);
    }
  });

  function sayNear(elt, text) {
    if (!elt || !elt.closest) { return; }
    var place = elt.closest(".actions, form, td, section") || elt.parentElement;
    if (!place || isPoll(elt)) { return; }  // a background poll says nothing here
    var note = place.querySelector(":scope > .refusal.client");
    if (!note) {
      note = document.createElement("p");
      note.className = "refusal client";
      note.setAttribute("role", "alert");
      place.appendChild(note);
    }
    note.textContent = text;
  }

  // --- Focus stays where the person was when a row or panel is swapped -----------------------

  // htmx puts focus back on an element with the same id; when the clicked button is gone
  // (the action is no longer offered), focus goes to the row's state, not to <body>.
  var focusedIn = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id && target.contains(document.activeElement)) { focusedIn = target.id; }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;
    if (!focusedIn || !swapped || swapped.id !== focusedIn) { return; }
    focusedIn = null;
    var active = document.activeElement;
    if (active && active !== document.body && document.body.contains(active)) { return; }
    var spot = swapped.querySelector("[data-focus-after-swap]") || swapped;
    if (!spot.hasAttribute("tabindex")) { spot.setAttribute("tabindex", "-1"); }
    spot.focus();
  });

  // --- Confirmations: Esc closes, Cancel closes, focus returns to the button -----------------

  function closeConfirm(details) {
    details.removeAttribute("open");
    var summary = details.querySelector("summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var details = document.activeElement && document.activeElement.closest("details[open]");
    if (!details) { details = document.querySelector("details.confirm[open], details.column-chooser[open]"); }
    if (details) { event.preventDefault(); closeConfirm(details); }
  });
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("[data-close-confirm]");
    if (cancel && cancel.closest("details")) { closeConfirm(cancel.closest("details")); return; }
    // A click on the dimmed page around an open confirmation closes it, and does nothing else.
    document.querySelectorAll("details.confirm[open]").forEach(function (open) {
      if (!open.contains(event.target)) {
        open.removeAttribute("open");
        event.preventDefault();
      }
    });
  });
  // One confirmation open at a time.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details.confirm") || !details.open) { return; }
    document.querySelectorAll("details.confirm[open]").forEach(function (other) {
      if (other !== details) { other.removeAttribute("open"); }
    });
  }, true);

  // --- Multi-select: the count follows the ticks ---------------------------------------------

  var ticked = {};
  function rememberTicks(target) {
    if (!target || !target.querySelectorAll) { return; }
    target.querySelectorAll("input[type=checkbox][form=vm-bulk]").forEach(function (box) {
      ticked[box.value] = box.checked;
    });
  }
  function restoreTicks(root) {
    root.querySelectorAll("input[type=checkbox][form=vm-bulk]").forEach(function (box) {
      if (ticked[box.value]) { box.checked = true; }
    });
  }

  function updateBulk() {
    var form = document.getElementById("vm-bulk");
    if (!form) { return; }
    var boxes = document.querySelectorAll("input[type=checkbox][form=vm-bulk]");
    var n = 0;
    boxes.forEach(function (box) { if (box.checked) { n += 1; } });
    var all = document.getElementById("bulk-scope-filter");
    var whole = all && all.checked;
    var count = document.getElementById("bulk-count");
    if (count) {
      count.textContent = whole ? "Every VM matching the filter is selected." :
        n === 0 ? "Tick VMs to act on several at once." :
        n + " VM" + (n === 1 ? "" : "s") + " ticked.";
    }
    form.querySelectorAll(".bulk-actions button").forEach(function (button) {
      button.disabled = !whole && n === 0;
    });
    var page = document.getElementById("select-page");
    if (page) {
      page.checked = boxes.length > 0 && n === boxes.length;
      page.indeterminate = n > 0 && n < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.id === "select-page") {
      document.querySelectorAll("input[type=checkbox][form=vm-bulk]").forEach(function (b) {
        b.checked = box.checked;
        ticked[b.value] = box.checked;
      });
    } else if (box.matches && box.matches("input[type=checkbox][form=vm-bulk]")) {
      ticked[box.value] = box.checked;
    }
    updateBulk();
    updateConfirmCount();
  });

  // The preview's button says how many VMs will be sent, as the ticks change.
  function updateConfirmCount() {
    var form = document.getElementById("bulk-confirm");
    if (!form) { return; }
    var button = form.querySelector("button[data-count-label]");
    var boxes = document.querySelectorAll("input[type=checkbox][form=bulk-confirm]");
    if (!button || boxes.length === 0) { return; }
    var n = 0;
    boxes.forEach(function (box) { if (box.checked) { n += 1; } });
    button.textContent = button.getAttribute("data-count-label")
      .replace("{n}", String(n)).replace("{s}", n === 1 ? "" : "s");
    button.disabled = n === 0;
    var acting = document.getElementById("plan-acting");
    if (acting) { acting.setAttribute("data-ticked", String(n)); }
  }

  // --- Filters: drop empty fields from the shareable URL -------------------------------------

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.hasAttribute || !elt.hasAttribute("data-drop-empty")) { return; }
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (key) {
      if (params[key] === "" || params[key] === null) { delete params[key]; }
    });
  });

  // --- Copy buttons ---------------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.textContent;
    var done = function () {
      var was = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = was; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
    } else {
      selectText(source);
      try { if (document.execCommand("copy")) { done(); } } catch (e) { /* selected for Ctrl+C */ }
    }
  });
  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // --- Times in the viewer's time zone, UTC on hover -----------------------------------------

  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  function utcText(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
  }
  function zoneName(d) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) { if (parts[i].type === "timeZoneName") { return parts[i].value; } }
    } catch (e) { /* fall through */ }
    return zone;
  }
  function isUtc(name) {
    return !name || /^(Etc\/)?(UTC|UCT|GMT|GMT[+-]?0|Universal|Zulu|Greenwich)$/i.test(name);
  }
  function localText(d, withDate) {
    var text = (withDate ? d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " : "") +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + (withDate ? ":" + pad(d.getSeconds()) : ":" + pad(d.getSeconds()));
    return text + " " + zoneName(d);
  }
  function localize(root) {
    (root || document).querySelectorAll("time[datetime][data-local]").forEach(function (node) {
      if (node.getAttribute("data-localized")) { return; }
      var d = new Date(node.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      var how = node.getAttribute("data-local");
      if (how === "datetime") { node.textContent = localText(d, true); }
      else if (how === "time") { node.textContent = localText(d, false); }
      node.title = (how === "relative" || how === "title" ? localText(d, true) + " · " : "") + utcText(d);
      node.setAttribute("data-localized", "1");
    });
    (root || document).querySelectorAll(".local-zone").forEach(function (node) {
      var short = zoneName(new Date());
      if (zone) { node.textContent = short && short !== zone ? zone + " (" + short + ")" : zone; }
    });
    // In a UTC browser, "hover a time to see it in UTC" would offer what is already shown.
    (root || document).querySelectorAll(".utc-on-hover").forEach(function (node) {
      node.hidden = isUtc(zone);
    });
  }

  // --- A failure noticed by the bell is said once, wherever the user is ----------------------

  function announceFailure(root) {
    var bell = (root && root.id === "bell") ? root : document.getElementById("bell");
    if (!bell || !bell.getAttribute("data-failure-id")) { return; }
    var id = bell.getAttribute("data-failure-id");
    var seen = [];
    try { seen = JSON.parse(window.sessionStorage.getItem("failures-said") || "[]"); } catch (e) { seen = []; }
    if (seen.indexOf(id) !== -1) { return; }
    seen.push(id);
    try { window.sessionStorage.setItem("failures-said", JSON.stringify(seen.slice(-50))); } catch (e) { /* private mode */ }
    showMessage("error", bell.getAttribute("data-failure-text") + " See Notifications.");
  }

  function onLoad(root) {
    localize(root);
    restoreTicks(root);
    updateBulk();
    updateConfirmCount();
    announceFailure(root);
  }
  // A refused form's error summary (GOV.UK style) takes the focus, so the reader starts there.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) { summary.focus(); }
  });
  if (window.htmx) { window.htmx.onLoad(onLoad); }
  else { document.addEventListener("DOMContentLoaded", function () { onLoad(document); }); }
})();
