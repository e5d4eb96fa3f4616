/* xinfang web: the little the pages need beyond HTML — add a formset row, submit a select on
   change, show progress while long work runs, and put the cursor on the first field marked
   wrong. No inline script anywhere (CSP). */
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

  // Registration (issue 15): a village chosen first fills its township; Enter in a row's field
  // goes to the next row, and in the last row adds one (instead of submitting the form).
  // Tab keeps the page's order: the rows, then the earlier-cases panel, then the rest.
  document.addEventListener("change", function (event) {
    var village = event.target.closest("select[data-fills-township]");
    if (!village) return;
    var option = village.options[village.selectedIndex];
    var township = document.getElementById(village.getAttribute("data-fills-township"));
    var value = option && option.getAttribute("data-township");
    if (township && value && township.value !== value) township.value = value;
  });

  // "Not the same" on an offered earlier case: kept outside the panel (which each refresh
  // replaces) and sent with every refresh and with the registration, where it is recorded.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-reject-match]");
    if (!button) return;
    var kept = document.getElementById("match-rejected");
    if (!kept || !button.form) return;
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "match_not_same";
    input.value = button.getAttribute("data-reject-match");
    kept.appendChild(input);
    button.form.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.ctrlKey) return;
    var field = event.target;
    if (!field.matches) return;
    var list = field.closest("[data-rows]");
    if (!list) return;
    // A demand is one line ("每项一行"): Enter ends it, Shift+Enter still breaks the line.
    var line = field.matches("input:not([type=checkbox]):not([type=radio])") ||
      (field.matches("textarea") && list.getAttribute("data-rows") === "d");
    if (!line) return;
    event.preventDefault();
    var key = list.getAttribute("data-rows");
    var row = field.closest(".row, fieldset");
    var rows = Array.prototype.filter.call(list.children, function (n) { return n.nodeType === 1; });
    var at = rows.indexOf(row);
    if (at >= 0 && at < rows.length - 1) {
      var next = rows[at + 1].querySelector("input:not([type=hidden]), select, textarea");
      if (next) next.focus();
    } else {
      addRow(key);
    }
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

  // Long work shows progress. The L0 export is fetched with the acting membership (the API reads
  // it from the X-Membership header) while a busy indicator runs, then saved as a file; without
  // script the link still downloads. A form marked data-busy shows its indicator once submitted.
  function filenameOf(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var star = /filename\*=UTF-8''([^;]+)/i.exec(header);
    if (star) {
      try { return decodeURIComponent(star[1]); } catch (e) { /* fall through */ }
    }
    var plain = /filename="?([^";]+)"?/i.exec(header);
    return plain ? plain[1] : fallback;
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-download]");
    if (!link || !window.fetch || !window.URL || !URL.createObjectURL) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    var box = link.closest(".download") || link.parentNode;
    var indicator = box.querySelector(".busy");
    var problem = box.querySelector(".download-error");
    var headers = { "X-Requested-With": "fetch" };
    if (link.dataset.membership) headers["X-Membership"] = link.dataset.membership;
    link.setAttribute("aria-busy", "true");
    if (indicator) indicator.hidden = false;
    if (problem) problem.hidden = true;
    fetch(link.href, { credentials: "same-origin", headers: headers })
      .then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            throw new Error(body.detail || link.dataset.errorText || String(response.status));
          });
        }
        return response.blob().then(function (blob) {
          save(blob, filenameOf(response, link.dataset.filename || "download.xlsx"));
          link.dataset.downloaded = String((parseInt(link.dataset.downloaded || "0", 10)) + 1);
        });
      })
      .catch(function (error) {
        if (problem) {
          problem.textContent = error.message;
          problem.hidden = false;
        }
      })
      .then(function () {
        link.removeAttribute("aria-busy");
        if (indicator) indicator.hidden = true;
      });
  });

  // A filter form leaves its empty fields out of the address, so a filtered list's link reads
  // as the filters in use (?township=3&search=低保) and can be shared or bookmarked.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-compact]");
    if (!form || (form.method || "get").toLowerCase() !== "get") return;
    var emptied = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && !field.disabled && field.value === "" && field.type !== "submit") {
        field.disabled = true;
        emptied.push(field);
      }
    });
    setTimeout(function () { emptied.forEach(function (f) { f.disabled = false; }); }, 0);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-busy]");
    if (!form) return;
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault(); // one load at a time
      return;
    }
    form.setAttribute("aria-busy", "true");
    var indicator = form.querySelector(".busy");
    if (indicator) indicator.hidden = false;
    var button = form.querySelector("button[type=submit]");
    // Disabled after this turn, so the click that submitted still counts.
    if (button) setTimeout(function () { button.disabled = true; }, 0);
  });

  // Back from the next page (bfcache): the form is idle again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy][aria-busy]").forEach(function (form) {
      form.removeAttribute("aria-busy");
      var indicator = form.querySelector(".busy");
      if (indicator) indicator.hidden = true;
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = false;
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    var wrong = document.querySelector('main [aria-invalid="true"]');
    if (wrong) {
      var details = wrong.closest("details");
      if (details) details.open = true;
      wrong.focus();
    }
  });
})();
