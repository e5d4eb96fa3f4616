/* xinfang web: the little the pages need beyond HTML — add a formset row, submit a select on
   change, and put the cursor on the first field marked wrong. No inline script anywhere (CSP). */
(function () {
  "use strict";

  function addRow(key) {
    var template = document.querySelector('template[data-empty-row="' + key + '"]');
    var list = document.querySelector('[data-rows="' + key + '"]');
    var total = document.getElementById("id_" + key + "-TOTAL_FORMS");
    if (!template || !list || !total) return;
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var added = [];
    while (holder.firstChild) {
      var node = holder.firstChild;
      list.appendChild(node);
      if (node.nodeType === 1) added.push(node);
    }
    total.value = String(index + 1);
    added.forEach(function (node) {
      if (window.htmx) window.htmx.process(node);
    });
    var first = added.length && added[0].querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    event.preventDefault();
    addRow(button.getAttribute("data-add-row"));
  });

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) {
      if (select.form.requestSubmit) select.form.requestSubmit();
      else select.form.submit();
    }
  });

  // A live check that now passes clears the error the server marked on the last submit.
  function clearPassedErrors() {
    document.querySelectorAll(".field.invalid .live .ok").forEach(function (ok) {
      var field = ok.closest(".field");
      field.classList.remove("invalid");
      field.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      field.querySelectorAll("[aria-invalid]").forEach(function (e) {
        e.removeAttribute("aria-invalid");
      });
    });
  }
  document.addEventListener("htmx:afterSettle", clearPassedErrors);
  document.addEventListener("htmx:oobAfterSwap", clearPassedErrors);

  document.addEventListener("DOMContentLoaded", function () {
    var wrong = document.querySelector('main [aria-invalid="true"]');
    if (wrong) {
      var details = wrong.closest("details");
      if (details) details.open = true;
      wrong.focus();
    }
  });
})();
