/* The daily-work pages: the log-a-contact form and the pipeline board. Wired by data attributes.
 *  - a quick choice of the next contact (tomorrow, in 3 days, next week) shows its day in the date
 *    field; typing a date picks "on the date below"; a result that ends the work picks "no next contact";
 *  - the board: drag a deal card onto another column; the drop sets the card's own stage select and
 *    submits its form (the same form a keyboard or a browser without script uses), and htmx swaps
 *    the board with its new totals.
 */
(function () {
  "use strict";

  function radio(value) {
    return document.querySelector('input[name="next_when"][value="' + value + '"]');
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.name === "next_when" && t.getAttribute("data-date")) {
      var day = document.getElementById("f-next_date");
      if (day) day.value = t.getAttribute("data-date");
      return;
    }
    if (t.hasAttribute && t.hasAttribute("data-result-select")) {
      var option = t.options[t.selectedIndex];
      var none = radio("none");
      if (option && option.getAttribute("data-ends-work") && none) {
        none.checked = true;
      } else if (none && none.checked) {
        radio("date").checked = true;
      }
      if (option && option.getAttribute("data-refusal")) {
        var reason = document.getElementById("f-refusal_reason");
        if (reason) reason.focus();
      }
    }
  });
  document.addEventListener("input", function (e) {
    if (e.target.id === "f-next_date" || e.target.id === "f-next_time") {
      var exact = radio("date");
      if (exact && e.target.id === "f-next_date") exact.checked = true;
    }
  });

  // The pipeline board.
  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest("[data-deal]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".board-col.drop-here").forEach(function (c) { c.classList.remove("drop-here"); });
  });
  document.addEventListener("dragover", function (e) {
    var col = dragged && e.target.closest && e.target.closest("[data-stage]");
    if (!col) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".board-col.drop-here").forEach(function (c) { if (c !== col) c.classList.remove("drop-here"); });
    col.classList.add("drop-here");
  });
  document.addEventListener("drop", function (e) {
    var col = dragged && e.target.closest && e.target.closest("[data-stage]");
    if (!col) return;
    e.preventDefault();
    var card = dragged;
    col.classList.remove("drop-here");
    var select = card.querySelector("select[name=stage_id]");
    var stage = col.getAttribute("data-stage");
    if (!select || select.value === stage) return;
    select.value = stage;
    var list = col.querySelector(".board-cards");
    if (list) list.insertBefore(card, list.firstChild);
    select.form.requestSubmit();
  });
})();
