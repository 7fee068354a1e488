/* The quick search in the top bar: "/" focuses it, arrows move through the suggestions, Enter opens the
   one picked (or the results page when none is), Escape closes. No library; the server sends JSON. */
(function () {
  "use strict";
  var form = document.getElementById("ad-qs");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var list = document.getElementById("ad-qs-list");
  var timer = null, seq = 0, active = -1;

  function options() { return list.querySelectorAll("[role=option]"); }

  function close() {
    list.hidden = true; list.innerHTML = ""; active = -1;
    input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
  }

  function mark(index) {
    var items = options();
    if (!items.length) { return; }
    active = (index + items.length) % items.length;
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({block: "nearest"});
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function render(body) {
    list.innerHTML = ""; active = -1;
    var n = 0;
    body.groups.forEach(function (group) {
      var section = el("div", "ad-qs-group");
      section.setAttribute("role", "group");
      var heading = el("div", "ad-qs-kind", group.title);
      heading.id = "ad-qs-kind-" + group.kind;
      section.setAttribute("aria-labelledby", heading.id);
      section.appendChild(heading);
      group.results.forEach(function (hit) {
        var a = el("a", "ad-qs-hit");
        a.href = hit.url; a.id = "ad-qs-opt-" + (n++);
        a.setAttribute("role", "option"); a.setAttribute("aria-selected", "false");
        a.appendChild(el("span", "ad-qs-title", hit.title));
        var details = hit.details.slice();
        if (hit.matched) { details.unshift(hit.matched); }
        if (details.length) { a.appendChild(el("span", "ad-qs-details", details.join(" · "))); }
        section.appendChild(a);
      });
      if (group.more) { section.appendChild(el("div", "ad-qs-more", "More " + group.title.toLowerCase() + " match: press Enter for all.")); }
      list.appendChild(section);
    });
    if (!n) { list.appendChild(el("div", "ad-qs-none", "No client matches “" + body.query + "”.")); }
    var all = el("a", "ad-qs-all", "See all results for “" + body.query + "” (Enter)");
    all.href = form.action + "?q=" + encodeURIComponent(body.query);
    list.appendChild(all);
    list.hidden = false; input.setAttribute("aria-expanded", "true");
  }

  function suggest() {
    var q = input.value.trim();
    if (q.length < 2) { close(); return; }
    var mine = ++seq;
    fetch(form.dataset.suggest + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && mine === seq && document.activeElement === input) { render(body); } })
      .catch(function () { /* offline or logged out: Enter still opens the results page */ });
  }

  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 150); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); if (list.hidden) { suggest(); } else { mark(active + 1); } }
    else if (event.key === "ArrowUp") { event.preventDefault(); mark(active - 1); }
    else if (event.key === "Escape" && !list.hidden) { event.preventDefault(); close(); }  // a second Escape clears
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); window.location.href = options()[active].href; }
  });
  input.addEventListener("blur", function () { setTimeout(function () { if (!form.contains(document.activeElement)) { close(); } }, 150); });
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) { return; }
    event.preventDefault(); input.focus(); input.select();
  });
})();
