// The rule box: the rule text and the step-by-step editor say the same rule.
// Typing a rule fills the editor and the preview; changing the editor writes the rule.
// The server reads the rules (GET /admin/rules/preview); without this script the form's own
// "Preview" and "Write the rule" buttons do the same by posting the form.
(function () {
  "use strict";
  var PREFIX = "editor-";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function setup(box) {
    var url = box.getAttribute("data-preview-url");
    var text = box.querySelector("[data-rule-text]");
    var bill = box.querySelector("[data-rule-bill]");
    var preview = box.querySelector("[data-rule-preview]");
    var editor = box.querySelector("[data-rule-editor]");
    var kind = editor.querySelector("[data-editor=kind]");
    var fields = editor.querySelectorAll("[data-editor]");
    var fallback = box.getAttribute("data-fallback") || "";
    var request = 0;

    box.querySelectorAll("[data-no-js]").forEach(function (el) { el.hidden = true; });
    box.querySelectorAll(".no-js-example").forEach(function (el) { el.hidden = true; });
    box.querySelectorAll("[data-example]").forEach(function (chip) {
      chip.hidden = false;
      chip.addEventListener("click", function () {
        text.value = chip.getAttribute("data-example");
        text.dispatchEvent(new Event("input"));
        text.focus();
      });
    });

    function showKind() {
      editor.querySelectorAll("[data-kinds]").forEach(function (row) {
        row.hidden = row.getAttribute("data-kinds").split(" ").indexOf(kind.value) < 0;
      });
    }

    function show(answer, usedFallback) {
      preview.textContent = "";
      if (!answer.ok) {
        var errors = document.createElement("ul");
        errors.className = "errors";
        var item = document.createElement("li");
        item.textContent = answer.error;
        errors.appendChild(item);
        preview.appendChild(errors);
        return;
      }
      var explain = document.createElement("p");
      explain.className = "explain";
      explain.textContent = answer.explain;
      if (usedFallback) {
        var note = document.createElement("span");
        note.className = "muted";
        note.textContent = " (" + box.getAttribute("data-fallback-label") + ")";
        explain.appendChild(note);
      }
      preview.appendChild(explain);
      var lines = document.createElement("ul");
      lines.className = "lines";
      answer.lines.forEach(function (line) {
        var li = document.createElement("li");
        li.textContent = line;
        lines.appendChild(li);
      });
      preview.appendChild(lines);
    }

    function fill(values) {
      fields.forEach(function (field) {
        var key = field.getAttribute("data-editor");
        if (key in values) field.value = values[key];
      });
      showKind();
    }

    function ask(params, onAnswer) {
      var mine = ++request;
      if (bill && bill.value.trim()) params.set("rule_bill", bill.value.trim());
      fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (answer) { if (mine === request) onAnswer(answer); })
        .catch(function () { /* offline: the form's buttons still work */ });
    }

    var fromText = debounce(function () {
      var typed = text.value.trim();
      var usedFallback = !typed && fallback;
      var params = new URLSearchParams();
      params.set("text", typed || fallback);
      ask(params, function (answer) {
        show(answer, usedFallback);
        if (answer.ok) fill(answer.fields);
      });
    }, 250);

    var fromEditor = debounce(function () {
      var params = new URLSearchParams();
      fields.forEach(function (field) {
        params.set(PREFIX + field.getAttribute("data-editor"), field.value);
      });
      ask(params, function (answer) {
        show(answer, false);
        if (answer.ok) text.value = answer.text;
      });
    }, 350);

    text.addEventListener("input", fromText);
    if (bill) bill.addEventListener("input", fromText);
    fields.forEach(function (field) {
      field.addEventListener(field.tagName === "SELECT" ? "change" : "input", fromEditor);
    });
    kind.addEventListener("change", showKind);
    showKind();
  }

  document.querySelectorAll("[data-rule-box]").forEach(setup);
})();
