/* Sportello B2 – back-office. Small help on top of pages that work without it:
   the warning before the session ends (with "Resta collegato"), focus on a
   confirmation, and note templates copied into the note. */
(function () {
  "use strict";

  // -- the confirmation or warning the page wants read first ---------------------------
  var focus = document.querySelector("[data-focus]");
  var focusIt = function () {
    if (focus && document.activeElement !== focus) {
      focus.focus();
    }
  };
  focusIt();
  window.addEventListener("load", focusIt);

  // -- warning before the session ends -------------------------------------------------
  var body = document.body;
  var box = document.getElementById("avviso-sessione");
  var text = document.getElementById("avviso-sessione-testo");
  var form = document.getElementById("resta-collegato");
  if (box && text && form && body.dataset.sessionLeft) {
    var warnAt = parseInt(body.dataset.sessionWarning || "600", 10);
    var endsAt = Date.now() + parseInt(body.dataset.sessionLeft, 10) * 1000;
    var shown = false;
    var tick = function () {
      var left = Math.round((endsAt - Date.now()) / 1000);
      if (left > warnAt) {
        return;
      }
      var minutes = Math.max(0, Math.ceil(left / 60));
      var message = left > 0
        ? "La sessione finisce tra " + minutes + (minutes === 1 ? " minuto" : " minuti") +
          ". Premete «Resta collegato» per continuare. Se finisce, quello che state scrivendo " +
          "non si perde: dopo il nuovo accesso lo ritrovate nel modulo."
        : "La sessione è finita. Inviate pure il modulo: vi chiediamo di entrare di nuovo e " +
          "ritrovate quello che avete scritto.";
      if (!shown || (left <= 0 && text.dataset.ended !== "1")) {
        text.textContent = message;
        box.hidden = false;
        shown = true;
        if (left <= 0) {
          text.dataset.ended = "1";
          form.hidden = true;
        }
      }
    };
    tick();
    window.setInterval(tick, 15000);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: {"Accept": "application/json"},
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (answer) {
        endsAt = Date.now() + answer.left * 1000;
        shown = false;
        box.hidden = true;
        var status = document.getElementById("sessione-rinnovata");
        if (!status) {
          status = document.createElement("p");
          status.id = "sessione-rinnovata";
          status.className = "done";
          status.setAttribute("role", "status");
          box.parentNode.insertBefore(status, box);
        }
        status.textContent = "Sessione rinnovata fino alle " + answer.until + ".";
      }).catch(function () {
        form.submit();
      });
    });
  }

  // -- note templates ---------------------------------------------------------------------
  var pickers = document.querySelectorAll("select[data-note-target]");
  Array.prototype.forEach.call(pickers, function (select) {
    var note = document.getElementById(select.dataset.noteTarget);
    if (!note) { return; }
    var last = "";
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var chosen = option ? (option.dataset.text || "") : "";
      if (!note.value.trim() || note.value === last) {
        note.value = chosen;
        last = chosen;
      }
    });
  });
})();
