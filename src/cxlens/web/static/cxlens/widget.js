/* cxlens survey widget: one scale question (NPS, CSAT, CES or rating) on any web site; no framework, no cookies.
 *
 * <script src="https://cx.example.com/s/widget.js" data-survey="SLUG" data-key="PUBLIC_KEY"
 *         data-customer-id="C1" async></script>
 *
 * Optional: data-touchpoint, data-order-id, data-ticket-id (kept when the survey names them as
 * hidden fields), data-lang (else the browser's languages), data-always="true" (show again after
 * an answer in this browser). Answers go to POST /s/SLUG/collect on the server the script came from.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var slug = script.getAttribute("data-survey") || "";
  var key = script.getAttribute("data-key") || "";
  var base = new URL(script.src, window.location.href).origin;
  var endpoint = base + "/s/" + encodeURIComponent(slug) + "/collect";
  var memo = "cxlens-widget:" + slug;
  var hidden = {};
  [["customer_id", "data-customer-id"], ["touchpoint", "data-touchpoint"], ["order_id", "data-order-id"],
   ["ticket_id", "data-ticket-id"]].forEach(function (pair) {
    var value = script.getAttribute(pair[1]);
    if (value) { hidden[pair[0]] = value; }
  });

  function remembered() {
    try { return window.localStorage.getItem(memo) === "answered"; } catch (e) { return false; }
  }
  function remember() {
    try { window.localStorage.setItem(memo, "answered"); } catch (e) { /* private mode: ask again next time */ }
  }
  if (remembered() && script.getAttribute("data-always") !== "true") { return; }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var CSS = [
    ".cxw{position:fixed;bottom:16px;right:16px;left:auto;z-index:2147483000;max-width:440px;width:calc(100% - 32px);",
    "box-sizing:border-box;background:#fff;color:#111827;border:1px solid #6b7280;border-radius:10px;",
    "box-shadow:0 6px 24px rgba(0,0,0,.18);padding:14px 16px;font:15px/1.4 system-ui,-apple-system,Segoe UI,",
    "Roboto,sans-serif}",
    ".cxw[dir=rtl]{right:auto;left:16px}",
    ".cxw *{box-sizing:border-box;font:inherit;color:inherit}",
    ".cxw-head{display:flex;gap:8px;align-items:flex-start;justify-content:space-between}",
    ".cxw-q{margin:0 0 10px;font-weight:600;padding:0;border:0}",
    ".cxw-x{background:#fff;border:1px solid #6b7280;border-radius:6px;min-width:32px;min-height:32px;",
    "cursor:pointer;line-height:1}",
    ".cxw fieldset{border:0;margin:0;padding:0;min-width:0}",
    ".cxw-scale{display:flex;flex-wrap:wrap;gap:4px}",
    ".cxw-scale button{flex:1 0 30px;min-height:36px;background:#fff;border:1px solid #4b5563;border-radius:6px;",
    "cursor:pointer;color:#111827}",
    ".cxw-scale button[aria-pressed=true]{background:#1d4ed8;border-color:#1d4ed8;color:#fff}",
    ".cxw-ends{display:flex;justify-content:space-between;font-size:13px;color:#374151;margin:4px 0 8px}",
    ".cxw label{display:block;margin:8px 0 4px}",
    ".cxw textarea{width:100%;min-height:64px;border:1px solid #4b5563;border-radius:6px;padding:6px}",
    ".cxw-send{margin-top:10px;background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:8px 16px;",
    "cursor:pointer;min-height:36px}",
    ".cxw-send[disabled]{background:#6b7280;cursor:not-allowed}",
    ".cxw button:focus-visible,.cxw textarea:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}",
    ".cxw-scale button[aria-pressed=true]:focus-visible{outline-color:#111827}",
    ".cxw-hp{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);",
    "clip-path:inset(50%);white-space:nowrap;border:0}",
    ".cxw-status{margin:8px 0 0;min-height:1em}",
    ".cxw-comment[hidden]{display:none}"
  ].join("");

  function show(cfg) {
    var words = cfg.words, q = cfg.question;
    if (!document.getElementById("cxw-style")) {
      var style = el("style", {id: "cxw-style"});
      style.textContent = CSS;
      document.head.appendChild(style);
    }
    var box = el("section", {"class": "cxw", id: "cxw-" + slug, role: "dialog", "aria-modal": "false",
                             "aria-labelledby": "cxw-q-" + slug, lang: cfg.language, dir: cfg.dir});
    var head = el("div", {"class": "cxw-head"});
    var title = el("p", {"class": "cxw-q", id: "cxw-q-" + slug}, q.text);
    var close = el("button", {type: "button", "class": "cxw-x", "aria-label": words.close}, "\u00d7");
    head.appendChild(title);
    head.appendChild(close);
    box.appendChild(head);

    var form = el("form", {novalidate: "novalidate"});
    var group = el("fieldset", {"aria-labelledby": "cxw-q-" + slug, "aria-describedby": "cxw-ends-" + slug});
    var scale = el("div", {"class": "cxw-scale"});
    var picked = null;
    var buttons = [];
    for (var v = q.min; v <= q.max; v++) {
      var b = el("button", {type: "button", "aria-pressed": "false", "data-score": String(v)}, String(v));
      buttons.push(b);
      scale.appendChild(b);
    }
    group.appendChild(scale);
    var ends = el("p", {"class": "cxw-ends", id: "cxw-ends-" + slug});
    ends.appendChild(el("span", {}, q.min + " = " + q.low));
    ends.appendChild(el("span", {}, q.max + " = " + q.high));
    group.appendChild(ends);
    form.appendChild(group);

    // The open question after the score: the server says which one follows each score (e.g. "What went
    // wrong?" after a low one); none is shown before a score is picked.
    var comments = cfg.comments || null;
    var current = null;
    var commentBox = el("div", {"class": "cxw-comment", id: "cxw-cb-" + slug});
    var commentLabel = el("label", {"for": "cxw-c-" + slug}, "");
    var comment = el("textarea", {id: "cxw-c-" + slug, name: "comment", maxlength: String(cfg.max_text), rows: "3"});
    commentBox.appendChild(commentLabel);
    commentBox.appendChild(comment);
    form.appendChild(commentBox);
    function showComment(q) {
      current = q || null;
      commentBox.hidden = !current;
      commentLabel.textContent = current ? current.text + " " + words.optional : "";
    }
    showComment(comments ? null : cfg.comment);
    var trap = el("div", {"class": "cxw-hp", "aria-hidden": "true"});
    var trapInput = el("input", {type: "text", name: "website", tabindex: "-1", autocomplete: "off",
                                 id: "cxw-hp-" + slug});
    trap.appendChild(el("label", {"for": "cxw-hp-" + slug}, words.honeypot));
    trap.appendChild(trapInput);
    form.appendChild(trap);
    var send = el("button", {type: "submit", "class": "cxw-send", disabled: "disabled"}, words.send);
    form.appendChild(send);
    var status = el("p", {"class": "cxw-status", role: "status", "aria-live": "polite"});
    form.appendChild(status);
    box.appendChild(form);

    function pick(button) {
      buttons.forEach(function (other) { other.setAttribute("aria-pressed", other === button ? "true" : "false"); });
      picked = Number(button.getAttribute("data-score"));
      if (comments) { showComment(comments[String(picked)]); }
      send.removeAttribute("disabled");
    }
    buttons.forEach(function (button, i) {
      button.addEventListener("click", function () { pick(button); });
      button.addEventListener("keydown", function (event) {
        var step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[event.key];
        if (step === undefined) { return; }
        if (cfg.dir === "rtl" && (event.key === "ArrowRight" || event.key === "ArrowLeft")) { step = -step; }
        var next = buttons[Math.min(buttons.length - 1, Math.max(0, i + step))];
        event.preventDefault();
        next.focus();
        pick(next);
      });
    });
    function dismiss() { box.parentNode && box.parentNode.removeChild(box); }
    close.addEventListener("click", dismiss);
    box.addEventListener("keydown", function (event) { if (event.key === "Escape") { dismiss(); } });

    var id = randomId();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (picked === null) { return; }
      var answers = {};
      answers[q.id] = picked;
      if (current && comment.value.trim()) { answers[current.id] = comment.value.trim(); }
      var body = {key: key, id: id, answers: answers, hidden: hidden, language: cfg.request_language || cfg.language,
                  website: trapInput.value};
      send.setAttribute("disabled", "disabled");
      post(body, 2).then(function (ok) {
        if (ok) {
          remember();
          form.removeChild(group);
          Array.prototype.slice.call(form.querySelectorAll(".cxw-comment,.cxw-send")).forEach(function (n) {
            n.parentNode.removeChild(n);
          });
          title.textContent = words.widget_thanks;
          status.textContent = words.widget_thanks;
          box.setAttribute("data-state", "sent");
        } else {
          status.textContent = words.widget_error;
          send.removeAttribute("disabled");
        }
      });
    });
    document.body.appendChild(box);
  }

  function post(body, tries) {
    return window.fetch(endpoint, {method: "POST", mode: "cors", credentials: "omit",
                                   headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(function (r) { return r.ok; })
      .catch(function () { return tries > 1 ? post(body, tries - 1) : false; });  // same id: stored once
  }

  var wanted = script.getAttribute("data-lang") ||
    (navigator.languages && navigator.languages.length ? navigator.languages.join(",") : navigator.language || "");
  window.fetch(endpoint + "?key=" + encodeURIComponent(key) + "&lang=" + encodeURIComponent(wanted),
               {mode: "cors", credentials: "omit"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (cfg) {
      if (!cfg) { return; }
      cfg.request_language = wanted.split(",")[0];
      if (document.body) { show(cfg); } else { document.addEventListener("DOMContentLoaded", function () { show(cfg); }); }
    })
    .catch(function () { /* the survey is closed or the server unreachable: show nothing */ });
})();
