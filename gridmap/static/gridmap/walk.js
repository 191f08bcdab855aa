/* The mock evaluation's walk on a poor connection. Each item's form is sent in the background
 * (Accept: application/json); when the phone has no connection the answer, photo included, is
 * kept in the browser (IndexedDB) and sent again when the connection comes back or the page is
 * opened again. Every answer carries its client id, so a resend never scores twice: the server
 * answers 200 for one it already has. Nothing is kept after the server has answered. */
(function () {
  "use strict";
  var DB = "gridmap-walk", STORE = "answers";
  var pending = document.getElementById("walk-pending");
  var texts = document.getElementById("walk-texts");
  var say = texts ? JSON.parse(texts.textContent) : {};

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, {keyPath: "id"}); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function store(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), out = fn(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(out && out.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function all() { return store("readonly", function (s) { return s.getAll(); }); }
  function keep(entry) { return store("readwrite", function (s) { return s.put(entry); }); }
  function drop(id) { return store("readwrite", function (s) { return s.delete(id); }); }

  function showCount() {
    return all().then(function (rows) {
      if (!pending) return;
      pending.hidden = rows.length === 0;
      pending.textContent = (say.pending || "%s").replace("%s", String(rows.length));
      pending.setAttribute("data-count", String(rows.length));
    });
  }

  function send(entry) {
    var data = new FormData();
    entry.fields.forEach(function (kv) { data.append(kv[0], kv[1]); });
    return fetch(entry.action, {method: "POST", body: data, credentials: "same-origin",
                                headers: {"Accept": "application/json"}});
  }

  function mark(entry, text) {
    var form = document.querySelector("form[data-client='" + entry.id + "']");
    if (!form) return;
    var p = document.createElement("p");
    p.className = "answered";
    p.textContent = text;
    form.replaceWith(p);
  }

  function attempt(entry) {
    return send(entry).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.ok) {
          mark(entry, body.failed ? (say.failed || "failed") : (say.passed || "passed"));
        } else {
          mark(entry, (say.refused || "") + " " + (typeof body.error === "string" ? body.error : r.status));
        }
        return drop(entry.id);  // the server has answered: nothing more to keep
      });
    });
  }

  function flush() {
    return all().then(function (rows) {
      return rows.reduce(function (chain, entry) {
        return chain.then(function () { return attempt(entry).catch(function () { /* still offline */ }); });
      }, Promise.resolve());
    }).then(showCount);
  }

  Array.prototype.forEach.call(document.querySelectorAll("section.stop form"), function (form) {
    var id = form.querySelector("input[name=client_uuid]").value;
    form.setAttribute("data-client", id);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = [];
      new FormData(form).forEach(function (value, key) {
        if (value instanceof File && !value.name) return;  // no photo chosen
        fields.push([key, value]);
      });
      var entry = {id: id, action: form.action, fields: fields};
      keep(entry).then(function () {
        return attempt(entry).catch(function () {
          var note = document.createElement("p");
          note.className = "kept";
          note.textContent = say.kept || "kept";
          form.append(note);
        });
      }).then(showCount);
    });
  });

  window.addEventListener("online", flush);
  window.gridmapWalk = {flush: flush, ready: flush()};
})();
